"""Async engine and session factory from a URL (SQLite embedded, PostgreSQL in production)."""

import asyncio
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.util import await_only


def create_engine(url: str, *, read_only: bool = False) -> AsyncEngine:
    """`read_only`: for transactions that only read (see `reading_engine`)."""
    if url.startswith("sqlite"):
        engine = _create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if read_only:
            event.listen(engine.sync_engine, "begin", _begin_deferred)
        else:
            turns = _WriteTurns()
            event.listen(engine.sync_engine, "begin", turns.begin)
            event.listen(engine.sync_engine, "checkin", turns.end)
        return engine
    # No ping before each use: it was a round trip per transaction (15% of the router's
    # time at 100 messages a second). After a database restart the first transaction on a
    # dead connection fails, and SQLAlchemy then replaces every connection of the pool; a
    # consumer applies its batch again, a webhook or desk request gets a 5xx and retries.
    return _create_async_engine(url, pool_size=10, max_overflow=10)


async def asyncpg_of(session: AsyncSession) -> Any | None:
    """The session's asyncpg connection; None on SQLite. For the few bulk statements
    (the outbox's COPY, fetch and delete; the router's state rows) where SQLAlchemy's
    per-row work would cost more than the statement. Its statements join the session's
    transaction only after the session ran one of its own (SQLAlchemy begins on the
    first); a caller that runs none, as the relay, opens a transaction on it."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return None
    return (await connection.get_raw_connection()).driver_connection


def reading_engine(url: str, engine: AsyncEngine) -> AsyncEngine:
    """The engine for transactions that only read. On SQLite, connections of their own
    that never take the write lock, so a hundred desks polling do not queue behind each
    other and every writer (WAL lets them read while one writes). On PostgreSQL, a pool
    of its own in autocommit: a long poll's look is one round trip instead of three
    (BEGIN, SELECT, ROLLBACK), which at 20 messages a second was a third of the agents
    service's time."""
    if url.startswith("sqlite"):
        return create_engine(url, read_only=True)
    return _create_async_engine(url, pool_size=10, max_overflow=10, isolation_level="AUTOCOMMIT")


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the driver, begins transactions (see _begin_immediate).
    connection.isolation_level = None
    # WAL lets readers work while the router writes; FULL sync makes a commit durable.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class _WriteTurns:
    """SQLite lets one transaction write at a time. Writers of this process wait for
    their turn in line on the event loop, woken the moment the one before gives the
    connection back, instead of in SQLite's busy handler, which sleeps up to 100 ms
    between looks and so kept each waiter 130 ms on average at 20 messages a second.
    Another process's writer (`omniroute keys create`) still meets the busy timeout."""

    def __init__(self) -> None:
        self.lines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def begin(self, connection: Any) -> None:
        info = connection.info
        if "write_turn" not in info:  # a connection keeps its turn until checked in
            line = self.lines.setdefault(asyncio.get_running_loop(), asyncio.Lock())
            await_only(line.acquire())
            info["write_turn"] = line
        # A transaction that reads and then writes fails at once in WAL mode if another
        # writer committed in between (the busy timeout does not apply). Taking the
        # write lock at BEGIN makes it wait its turn instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def end(self, _dbapi_connection: Any, record: Any) -> None:
        line = record.info.pop("write_turn", None)
        if line is not None:
            line.release()


def _begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
