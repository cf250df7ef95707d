"""Reading what the router did: its stored offsets and outbox, and cc.routing.v1 from the start."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from services.router.service import GROUP
from shared import events as ev
from shared.bus.kafka import KafkaBus
from shared.db import session_factory
from shared.db.models import OutboxRecord, RouterOffset


async def wait_until_applied(engine: object, *, records: int, timeout_s: float = 240) -> None:
    """Until the router stored offsets past every input record and relayed its outbox."""
    sessions = session_factory(engine)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        async with sessions() as session:
            applied = await session.scalar(
                select(func.coalesce(func.sum(RouterOffset.next_offset), 0)).where(
                    RouterOffset.grp == GROUP
                )
            )
            pending = await session.scalar(select(func.count()).select_from(OutboxRecord))
        if applied == records and pending == 0:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"router applied {applied} of {records} records, {pending} unrelayed")


async def read_routing(bus: KafkaBus, topic: str = ev.ROUTING) -> list[ev.Envelope]:
    """Every event on the topic (cc.routing.v1 unless told), until it is quiet for 5 s."""
    events: list[ev.Envelope] = []
    async with bus.subscribe([topic], f"crash-inspector-{topic}") as subscription:
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < 5:
            records = await subscription.fetch(max_records=2000, timeout_s=1)
            if records:
                idle_since = time.monotonic()
            events += [ev.decode(record.value, topic=topic) for record in records]
    return events
