"""The outbox relay: publishes committed events in order, then forgets them.

A crash between publish and delete publishes a record again on restart; every
consumer is idempotent by event id, so that duplicate is invisible to users.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.base import Bus
from shared.db.engine import asyncpg_of
from shared.db.models import OutboxRecord
from shared.observability import OUTBOX_PUBLISHED

log = structlog.get_logger(__name__)

Row = tuple[int, str, str, bytes]


async def relay_once(sessions: async_sessionmaker[AsyncSession], bus: Bus, *, limit: int) -> int:
    """Publish up to `limit` outbox records; returns how many.

    The oldest rows, locked until they are deleted: FOR UPDATE (PostgreSQL) keeps a
    second relay from publishing the same rows out of order; SQLite ignores it and
    serialises writers anyway. On PostgreSQL straight through asyncpg, in a transaction
    of its own: SQLAlchemy's rows and a DELETE with thousands of bound ids were most of
    the relay's time."""
    async with sessions() as session, session.begin():
        driver = await asyncpg_of(session)
        async with driver.transaction() if driver is not None else contextlib.nullcontext():
            rows = await _oldest(session, driver, limit)
            if rows:
                await bus.publish_many([(row[1], row[2], row[3]) for row in rows])
                await _forget(session, driver, [row[0] for row in rows])
    OUTBOX_PUBLISHED.inc(len(rows))
    return len(rows)


async def _oldest(session: AsyncSession, driver: Any, limit: int) -> Sequence[Row]:
    """(id, topic, key, value) of the oldest rows, locked."""
    if driver is not None:
        return await driver.fetch(  # type: ignore[no-any-return]
            "SELECT id, topic, key, value FROM outbox ORDER BY id LIMIT $1 FOR UPDATE", limit
        )
    query = (
        select(OutboxRecord.id, OutboxRecord.topic, OutboxRecord.key, OutboxRecord.value)
        .order_by(OutboxRecord.id)
        .limit(limit)
        .with_for_update()
    )
    return (await session.execute(query)).all()


async def _forget(session: AsyncSession, driver: Any, ids: list[int]) -> None:
    if driver is not None:  # one array parameter, not thousands of bound ids
        await driver.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", ids)
    else:
        await session.execute(delete(OutboxRecord).where(OutboxRecord.id.in_(ids)))


async def relay(
    sessions: async_sessionmaker[AsyncSession],
    bus: Bus,
    *,
    stop: asyncio.Event,
    written: asyncio.Event | None = None,
    idle_s: float = 0.05,
    limit: int = 2000,
) -> None:
    """Relay until `stop` is set, then drain what is left. `written` (set by this
    process's units of work) wakes it at once; other processes' rows wait for its next
    look, every `idle_s`."""
    written = written or asyncio.Event()  # none given: it only looks every idle_s
    while True:
        written.clear()  # before looking: a commit during the look wakes the wait
        published = await relay_once(sessions, bus, limit=limit)
        if published:
            continue
        if stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(written.wait(), idle_s)
