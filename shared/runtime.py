"""Wiring: one place where adapters (bus, database) are built and handed to the services.

A service is an HTTP app plus background workers (consumers, the outbox relay).
`service_app` gives every service the same life: connect to the bus and the
database in the background (so /healthz answers and /readyz says 503 while a
dependency is down), start the workers once connected, restart a worker that
crashes, and on SIGTERM stop fetching, finish and commit the batch in hand,
drain the outbox and close the connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.bus.base import Bus
from shared.bus.factory import build_bus
from shared.config import Settings
from shared.db import create_engine, reading_engine, session_factory
from shared.db.outbox import relay
from shared.db.unit_of_work import UnitOfWork
from shared.failures import dependency_away
from shared.http import health_router, install_problem_handlers
from shared.stopping import sleep_unless

log = structlog.get_logger(__name__)


T = TypeVar("T")


@dataclass
class Runtime:
    settings: Settings
    bus: Bus
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # For transactions that only read: on SQLite they do not take the write lock.
    reading_engine: AsyncEngine
    reads: async_sessionmaker[AsyncSession]
    # `omniroute run`: one process for one desk, whose provider accounts all belong to
    # the demo tenant.
    embedded: bool = False
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    # Long polls wait on the subject they read (an agent's offers, a conversation, a
    # command's verdict): a change wakes only those that read it, not every desk. They
    # also look again every second, for changes made by other processes.
    waiting: dict[str, set[asyncio.Event]] = field(default_factory=dict)
    # Set when a unit of work of this process committed events: wakes its relay.
    outbox_written: asyncio.Event = field(default_factory=asyncio.Event)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, written=self.outbox_written)

    def notify(self, subjects: Iterable[str]) -> None:
        """Wake the long polls waiting on any of these subjects."""
        for subject in subjects:
            for changed in self.waiting.get(subject, ()):
                changed.set()

    async def long_poll(
        self, wait_s: float, look: Callable[[], Awaitable[T]], *, subject: str
    ) -> T:
        """What `look` finds, as soon as it finds something (a non-empty answer), or its
        last answer once `wait_s` have passed: the long polls of desktops and widgets.
        `look` is tried again when `subject` is notified, and at least every second."""
        deadline = time.monotonic() + wait_s
        changed = asyncio.Event()
        self.waiting.setdefault(subject, set()).add(changed)
        try:
            while True:
                changed.clear()  # before looking: a change during the look wakes the wait
                found = await look()
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), min(remaining, 1.0))
        finally:
            waiters = self.waiting[subject]
            waiters.discard(changed)
            if not waiters:
                del self.waiting[subject]

    async def close_database(self) -> None:
        await self.engine.dispose()
        await self.reading_engine.dispose()

    async def check_bus(self) -> None:
        if not self.connected.is_set():
            raise ConnectionError("not connected to the bus yet")
        await self.bus.ping()

    async def check_database(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))


def bootstrap(settings: Settings, *, bus: Bus | None = None, embedded: bool = False) -> Runtime:
    """Build the adapters from settings; tests pass their own bus here."""
    engine = create_engine(settings.effective_database_url)
    readers = reading_engine(settings.effective_database_url, engine)
    return Runtime(
        settings=settings,
        bus=bus or build_bus(settings),
        engine=engine,
        sessions=session_factory(engine),
        reading_engine=readers,
        reads=session_factory(readers),
        embedded=embedded,
    )


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


# How views receive the adapters: `async def view(runtime: RuntimeDep)`.
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

Worker = Callable[[Runtime], Awaitable[None]]


def service_app(
    title: str,
    runtime: Runtime,
    *,
    routers: Sequence[APIRouter] = (),
    workers: Sequence[Worker] = (),
    on_ready: Callable[[], None] | None = None,
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = runtime
        life = asyncio.create_task(_run(runtime, workers))
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            runtime.stop.set()
            await life
            await runtime.bus.close()
            await runtime.close_database()
            log.info("service.stopped", service=title)

    app = FastAPI(title=title, lifespan=lifespan)
    install_problem_handlers(app)
    app.include_router(
        health_router({"bus": runtime.check_bus, "database": runtime.check_database})
    )
    for router in routers:
        app.include_router(router)
    return app


async def _run(runtime: Runtime, workers: Sequence[Worker]) -> None:
    if not await _connect(runtime):
        return
    await asyncio.gather(*(_supervise(runtime, worker) for worker in workers))


async def _connect(runtime: Runtime) -> bool:
    delay = 0.5
    while not runtime.stop.is_set():
        try:
            await runtime.bus.start()
        except Exception as error:
            log.warning("bus.connect_failed", error=repr(error), retry_in_s=delay)
            await runtime.bus.close()
            await sleep_unless(runtime.stop, delay)
            delay = min(delay * 2, 10.0)
            continue
        runtime.connected.set()
        return True
    return False


async def _supervise(runtime: Runtime, worker: Worker) -> None:
    """Run a worker until stop; a crash is logged and the worker restarted with backoff."""
    delay = 0.5
    while not runtime.stop.is_set():
        try:
            await worker(runtime)
            return
        except Exception as error:
            if dependency_away(error):  # an outage, not a bug: no traceback per restart
                log.warning(
                    "worker.dependency_away",
                    worker=worker.__name__,
                    restart_in_s=delay,
                    error=repr(error),
                )
            else:
                log.exception("worker.crashed", worker=worker.__name__, restart_in_s=delay)
            await sleep_unless(runtime.stop, delay)
            delay = min(delay * 2, 30.0)


async def relay_outbox(runtime: Runtime) -> None:
    """Worker: publish what units of work committed to the outbox."""
    await relay(runtime.sessions, runtime.bus, stop=runtime.stop, written=runtime.outbox_written)
