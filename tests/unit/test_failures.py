"""Which failures a consumer waits out, and which it parks the record for."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, NotLeaderForPartitionError
from sqlalchemy import exc

from shared.failures import caused_by_data, dependency_away


def wrapped(driver_error: Exception) -> exc.DBAPIError:
    """As SQLAlchemy's asyncpg dialect raises it: its error, over its adapted one, over
    the driver's."""
    adapted = Exception("adapted")
    adapted.__cause__ = driver_error
    return exc.DBAPIError("INSERT ...", {}, adapted)


AWAY = [
    ConnectionRefusedError(111, "Connection refused"),
    TimeoutError(),
    wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")),
    wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection")),
    wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is starting up")),
    wrapped(asyncpg.exceptions.SerializationError("could not serialize access")),
    exc.DBAPIError("SELECT 1", {}, Exception("connection is closed"), connection_invalidated=True),
    exc.OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked")),
    asyncpg.InterfaceError("connection is closed"),
    KafkaConnectionError("no broker"),
    NotLeaderForPartitionError(),
]
REFUSED = [
    asyncpg.exceptions.StringDataRightTruncationError("value too long"),
    wrapped(asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence")),
    wrapped(asyncpg.exceptions.DataError("invalid input for query argument $2")),
    UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed"),
]
BUGS = [
    KeyError("agent"),
    RuntimeError("a bug"),
    wrapped(asyncpg.exceptions.UndefinedColumnError()),
    asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
]


@pytest.mark.parametrize("error", AWAY, ids=repr)
def test_a_dependency_away_or_busy_is_waited_out(error: Exception) -> None:
    assert dependency_away(error) and not caused_by_data(error)


@pytest.mark.parametrize("error", REFUSED, ids=repr)
def test_values_the_database_refuses_are_caused_by_data(error: Exception) -> None:
    assert caused_by_data(error) and not dependency_away(error)


@pytest.mark.parametrize("error", BUGS, ids=repr)
def test_a_bug_is_neither(error: Exception) -> None:
    assert not (caused_by_data(error) or dependency_away(error))
