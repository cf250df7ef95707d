"""What a failed step tells its consumer to do: wait, or give the record up.

- A dependency that is away or busy (the database restarting, a lost connection, a
  broker electing a leader): waiting helps. A consumer retries the record until it
  goes through, however long that takes, and gives up nothing.
- A value the database refuses (too long, out of range, not encodable): writing it
  again fails again. A consumer that waited for it would wait forever and stop
  everything behind it: the router parks the record with the reason at once (the
  other consumers after their few tries, as for a bug).

Anything else is a bug, or something no one foresaw: tried a few times, then parked.
"""

from __future__ import annotations

import sqlite3

import asyncpg
from aiokafka.errors import KafkaError, KafkaTimeoutError
from pydantic_core import PydanticSerializationError
from sqlalchemy import exc

_AWAY = (
    OSError,  # refused, reset, unreachable, timed out (TimeoutError is one)
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.exceptions.OperatorInterventionError,  # 57: shutting down, starting up
    asyncpg.exceptions.InsufficientResourcesError,  # 53: too many connections, disk full
    asyncpg.exceptions.TransactionRollbackError,  # 40: a deadlock or serialization loser
    exc.TimeoutError,  # no connection free in the pool
    sqlite3.OperationalError,  # "database is locked"
    KafkaTimeoutError,
)

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


def dependency_away(error: BaseException) -> bool:
    """Whether `error`, or the driver's error it wraps, says a dependency is away or busy."""
    return any(
        isinstance(cause, _AWAY)
        or (isinstance(cause, KafkaError) and cause.retriable)
        # SQLAlchemy's verdict on a connection it found dead (and has dropped).
        or (isinstance(cause, exc.DBAPIError) and cause.connection_invalidated)
        # asyncpg used directly (the relay, the router's store) on a connection the server
        # dropped; its other interface errors are misuse, which waiting does not mend.
        or (isinstance(cause, asyncpg.InterfaceError) and "connection is closed" in str(cause))
        for cause in _chain(error)
    )


def caused_by_data(error: BaseException) -> bool:
    """Whether `error`, or the driver's error it wraps, is one the values written cause."""
    return any(isinstance(cause, _CAUSED_BY_DATA) for cause in _chain(error))


def _chain(error: BaseException) -> list[BaseException]:
    """The error, and what it wraps: SQLAlchemy's error holds the dialect's adapted one
    (`orig`), which was raised from the driver's."""
    chain: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and len(chain) < 4:
        chain.append(cause)
        cause = getattr(cause, "orig", None) or cause.__cause__
    return chain
