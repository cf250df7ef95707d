"""Times in the database: UTC in, aware UTC out, on PostgreSQL and SQLite alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """`DateTime(timezone=True)` that reads back aware UTC datetimes everywhere.

    SQLite keeps no offset and hands back naive datetimes: the API then wrote times
    without one (`"expires_at": "2026-12-01T00:48:15"`), which a browser reads as its
    own local time, so a desk in Madrid showed an offer's deadline an hour off. Every
    time stored here is UTC; a naive one given to a query is taken as UTC too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
