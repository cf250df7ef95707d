"""Which write failures the router parks the record for, and which it waits out."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc

from shared.db.errors import caused_by_data


def wrapped(driver_error: Exception) -> exc.DBAPIError:
    """As SQLAlchemy's asyncpg dialect raises it: its error, over its adapted one, over
    the driver's."""
    adapted = Exception("adapted")
    adapted.__cause__ = driver_error
    return exc.DBAPIError("INSERT ...", {}, adapted)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.StringDataRightTruncationError("value too long"),
        wrapped(asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence")),
        wrapped(asyncpg.exceptions.DataError("invalid input for query argument $2")),
        UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed"),
    ],
)
def test_values_the_database_refuses_are_caused_by_data(error: Exception) -> None:
    assert caused_by_data(error)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")),
        wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection")),
        wrapped(asyncpg.exceptions.SerializationError("could not serialize access")),
        TimeoutError(),
    ],
)
def test_an_away_or_busy_database_is_not(error: Exception) -> None:
    assert not caused_by_data(error)
