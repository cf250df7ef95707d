"""Whether a queue is open: its business hours in its own time zone."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from shared.events import QueueUpserted


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_open(queue: QueueUpserted, now: datetime) -> bool:
    if not queue.business_hours:
        return True
    local = now.astimezone(_zone(queue.timezone))
    today, clock = local.weekday(), local.time().replace(tzinfo=None)
    return any(
        today in hours.days and hours.opens <= clock < hours.closes
        for hours in queue.business_hours
    )
