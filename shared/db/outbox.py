"""The outbox relay: publishes committed events in order, then forgets them.

A crash between publish and delete publishes a record again on restart; every
consumer is idempotent by event id, so that duplicate is invisible to users.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.base import Bus
from shared.db.models import OutboxRecord
from shared.observability import OUTBOX_PUBLISHED

log = structlog.get_logger(__name__)


async def relay_once(sessions: async_sessionmaker[AsyncSession], bus: Bus, *, limit: int) -> int:
    """Publish up to `limit` outbox records; returns how many."""
    async with sessions() as session, session.begin():
        # FOR UPDATE (PostgreSQL) keeps a second relay from publishing the same rows
        # out of order; SQLite ignores it and serialises writers anyway. Plain rows, not
        # ORM objects: the relay moves thousands a second.
        rows = (
            await session.execute(
                select(OutboxRecord.id, OutboxRecord.topic, OutboxRecord.key, OutboxRecord.value)
                .order_by(OutboxRecord.id)
                .limit(limit)
                .with_for_update()
            )
        ).all()
        if not rows:
            return 0
        await bus.publish_many([(topic, key, value) for _, topic, key, value in rows])
        await session.execute(
            delete(OutboxRecord).where(OutboxRecord.id.in_([row[0] for row in rows]))
        )
    OUTBOX_PUBLISHED.inc(len(rows))
    return len(rows)


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
