"""Which failures of a write the written values cause, so that writing them again fails
again: unlike a lost connection, a restart of the database or a conflict, waiting does
not help, and a consumer that retries them waits forever."""

from __future__ import annotations

import sqlite3

import asyncpg
from pydantic_core import PydanticSerializationError
from sqlalchemy import exc

_CAUSED_BY_DATA = (
    # SQLSTATE class 22 on PostgreSQL (too long, out of range, not in the encoding), and
    # values asyncpg could not even send; as SQLAlchemy names them, and SQLite's own.
    asyncpg.exceptions.DataError,
    exc.DataError,
    sqlite3.DataError,
    # A value no UTF-8 encoder takes (SQLite raises it as is), or one the snapshot of a
    # state cannot be written as JSON for.
    UnicodeError,
    PydanticSerializationError,
)


def caused_by_data(error: BaseException) -> bool:
    """Whether `error`, or the driver's error it wraps, is one the values written cause."""
    cause: BaseException | None = error
    for _ in range(4):  # SQLAlchemy's error, the dialect's adapted one, the driver's
        if cause is None:
            return False
        if isinstance(cause, _CAUSED_BY_DATA):
            return True
        cause = getattr(cause, "orig", None) or cause.__cause__
    return False
