"""LocalBus: a durable append-only log in one SQLite file, for the embedded mode.

Each topic is one partition (offset = the record's sequence number), so records
keep the order in which they were published, which also keeps order per key.
A group's committed offsets live in the same file. Only one consumer per group
is expected at a time: the embedded mode runs every service in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import aiosqlite

from shared.bus.base import Record, to_bytes
from shared.events import Envelope

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT,
    value BLOB NOT NULL,
    appended_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS records_topic_seq ON records (topic, seq);
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    next_seq INTEGER NOT NULL,
    PRIMARY KEY (grp, topic)
);
"""
# How often a waiting consumer looks for records that another process appended.
_POLL_S = 0.05


class LocalBus:
    def __init__(self, path: Path, *, max_record_bytes: int = 1_000_000) -> None:
        self.path = path
        self.max_record_bytes = max_record_bytes
        self._db: aiosqlite.Connection | None = None
        self._appended = asyncio.Condition()

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: every append is its own transaction, synced before publish returns.
        self._db = await aiosqlite.connect(self.path, isolation_level=None)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=FULL")
        await self._db.execute("PRAGMA busy_timeout=5000")
        await self._db.executescript(_SCHEMA)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("LocalBus is not started")
        return self._db

    async def publish(self, topic: str, key: str, event: Envelope | bytes) -> None:
        value = to_bytes(topic, event, self.max_record_bytes)
        await self.db.execute(
            "INSERT INTO records (topic, key, value, appended_at) VALUES (?, ?, ?, ?)",
            (topic, key, value, time.time()),
        )
        async with self._appended:
            self._appended.notify_all()

    async def publish_many(self, records: Sequence[tuple[str, str, bytes]]) -> None:
        rows = [
            (topic, key, to_bytes(topic, value, self.max_record_bytes), time.time())
            for topic, key, value in records
        ]
        await self.db.execute("BEGIN IMMEDIATE")
        try:
            await self.db.executemany(
                "INSERT INTO records (topic, key, value, appended_at) VALUES (?, ?, ?, ?)", rows
            )
        except BaseException:
            await self.db.execute("ROLLBACK")
            raise
        await self.db.execute("COMMIT")
        async with self._appended:
            self._appended.notify_all()

    def subscribe(self, topics: Sequence[str], group: str) -> LocalSubscription:
        return LocalSubscription(self, tuple(topics), group)

    async def ping(self) -> None:
        await self.db.execute("SELECT 1")

    async def wait_for_append(self, timeout_s: float) -> None:
        async with self._appended:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._appended.wait(), timeout_s)


class LocalSubscription:
    def __init__(self, bus: LocalBus, topics: tuple[str, ...], group: str) -> None:
        self._bus = bus
        self._topics = topics
        self._group = group
        # Next sequence number to fetch per topic; starts at the committed offsets.
        self._position: dict[str, int] = {}

    async def __aenter__(self) -> Self:
        committed = dict.fromkeys(self._topics, 0)
        async with self._bus.db.execute(
            f"SELECT topic, next_seq FROM group_offsets WHERE grp = ? "  # noqa: S608
            f"AND topic IN ({','.join('?' * len(self._topics))})",
            (self._group, *self._topics),
        ) as rows:
            async for topic, next_seq in rows:
                committed[topic] = next_seq
        self._position = committed
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._position = {}

    async def fetch(self, *, max_records: int = 500, timeout_s: float = 1.0) -> list[Record]:
        deadline = time.monotonic() + timeout_s
        while True:
            records = await self._read(max_records)
            remaining = deadline - time.monotonic()
            if records or remaining <= 0:
                return records
            await self._bus.wait_for_append(min(_POLL_S, remaining))

    async def _read(self, limit: int) -> list[Record]:
        where = " OR ".join("(topic = ? AND seq >= ?)" for _ in self._position)
        params = [value for item in self._position.items() for value in item]
        async with self._bus.db.execute(
            f"SELECT seq, topic, key, value FROM records WHERE {where} "  # noqa: S608
            "ORDER BY seq LIMIT ?",
            (*params, limit),
        ) as rows:
            records = [Record(topic, 0, seq, key, value) async for seq, topic, key, value in rows]
        for record in records:
            self._position[record.topic] = record.offset + 1
        return records

    async def commit(self, records: Sequence[Record]) -> None:
        last: dict[str, int] = {}
        for record in records:
            last[record.topic] = max(last.get(record.topic, -1), record.offset)
        await self._bus.db.executemany(
            "INSERT INTO group_offsets (grp, topic, next_seq) VALUES (?, ?, ?) "
            "ON CONFLICT (grp, topic) DO UPDATE SET next_seq = MAX(next_seq, excluded.next_seq)",
            [(self._group, topic, offset + 1) for topic, offset in last.items()],
        )
