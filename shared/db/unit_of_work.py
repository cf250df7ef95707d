"""The unit of work: state changes and the events they cause commit together, once."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.engine import asyncpg_of
from shared.db.models import OutboxRecord
from shared.events import Envelope, encode


class UnitOfWork:
    """`async with UnitOfWork(sessions) as uow: ...; uow.emit(...); await uow.commit()`.

    Leaving the block without `commit` rolls everything back, events included.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, written: asyncio.Event | None = None
    ) -> None:
        """`written` is set after a commit that emitted events: the relay of this process
        waits on it, so events leave at once instead of at its next look."""
        self._sessions = sessions
        self._written = written
        self._session: AsyncSession | None = None
        self._events: list[tuple[str, str, bytes]] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self._events = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.session.rollback()
        await self.session.close()
        self._session = None

    def emit(self, topic: str, envelope: Envelope) -> None:
        """Queue an event for the bus; it leaves only if this unit of work commits."""
        self.emit_encoded(topic, envelope.tenant, encode(envelope))

    def emit_encoded(self, topic: str, tenant: str, value: bytes) -> None:
        """`emit` for an event encoded already (see `Envelope.follow_json`)."""
        self._events.append((topic, tenant, value))

    async def commit(self) -> None:
        emitted = bool(self._events)
        if emitted:
            await _write_outbox(self.session, self._events)
            self._events = []
        await self.session.commit()
        if emitted and self._written is not None:
            self._written.set()


async def _write_outbox(session: AsyncSession, events: list[tuple[str, str, bytes]]) -> None:
    """All of a unit's events in one statement (a router batch emits thousands): COPY on
    PostgreSQL, a fifth of the CPU and half the time of a multi-row insert."""
    driver = await asyncpg_of(session)
    if driver is not None:
        await driver.copy_records_to_table(
            OutboxRecord.__tablename__, records=events, columns=("topic", "key", "value")
        )
    else:
        await session.execute(
            insert(OutboxRecord),
            [{"topic": topic, "key": key, "value": value} for topic, key, value in events],
        )
