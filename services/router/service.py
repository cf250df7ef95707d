"""The router service: the pure core inside a crash-safe loop.

Each batch of input records is applied in one database transaction that stores
the changed tenant states, the input offsets applied and the events decided
(outbox). Records at offsets already applied are skipped, so a batch that is
fetched again after a crash changes nothing twice. A record the core fails on, or
whose decision the database refuses, is parked in cc.dead-letter.v1 with the reason
and the rest applied: one record never stops the desk. A ticker feeds the core the
passing time (offer deadlines, bullseye rings, business hours).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import structlog
from fastapi import FastAPI
from prometheus_client import Counter, Gauge, Histogram

from services.router import snapshot, store
from services.router.core import decide
from services.router.core.decide import Out, Router, Tick
from services.router.core.state import TenantState
from shared.bus.base import Record
from shared.bus.consumer import dead_letter
from shared.compiled import is_compiled
from shared.db.unit_of_work import UnitOfWork
from shared.events import (
    AGENT_EVENTS,
    CONFIG,
    INBOUND,
    Envelope,
    InvalidRecord,
    decode,
    encode,
    utcnow,
)
from shared.failures import caused_by_data
from shared.runtime import Runtime, Worker, relay_outbox, service_app
from shared.stopping import sleep_unless

log = structlog.get_logger(__name__)

GROUP = "router"
INPUT_TOPICS = (INBOUND, AGENT_EVENTS, CONFIG)
TICK_S = 1.0
# Records applied in one transaction: larger batches amortise the round trips.
BATCH = 2000
# How the core runs, for the logs: `make` compiles it (shared/compiled.py).
CORE = "compiled" if is_compiled(decide) else "interpreted"

# An input and the record it came in (none for the ticker's time events).
Input = tuple[Record | None, Envelope | Tick]

DECISIONS = Counter("omniroute_router_decisions_total", "Input events the router decided on.")
BATCH_SECONDS = Histogram(
    "omniroute_router_batch_seconds", "Time to apply one batch, transaction included."
)
WAITING = Gauge("omniroute_router_waiting", "Conversations waiting in a queue.", ["tenant"])


class DecisionFailed(Exception):
    def __init__(self, record: Record, error: Exception) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.record = record


class Decider(Protocol):
    """The core as the service uses it: a `Router`, or what a deployment puts in its place
    (a compiled `Router` cannot be subclassed by interpreted code: wrap it)."""

    def decide(self, state: TenantState, event: Envelope | Tick, now: datetime) -> list[Out]: ...


@dataclass
class RouterService:
    runtime: Runtime
    router: Decider = field(default_factory=Router)
    # Tenant -> (state, stored version). A stale copy is caught by the version check.
    states: dict[str, tuple[TenantState, int]] = field(default_factory=dict)
    # Batches and ticks change the same states: one at a time.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def consume(self) -> None:
        """Worker: apply input batches until stop, committing each after its transaction."""
        async with self.runtime.sessions() as session:
            self.states = await store.load_all(session)
        log.info("router.restored", tenants=len(self.states), core=CORE)
        async with self.runtime.bus.subscribe(INPUT_TOPICS, GROUP) as subscription:
            # The database holds the offsets applied (a record fetched again is skipped);
            # the bus's commit only says where to fetch after a restart. So the next batch
            # need not wait for the broker's answer, only the next commit does.
            commit: asyncio.Task[None] | None = None
            try:
                while not self.runtime.stop.is_set():
                    records = await subscription.fetch(max_records=BATCH, timeout_s=0.5)
                    if records:
                        await self.apply(records)
                        if commit is not None:
                            await commit
                        commit = asyncio.create_task(subscription.commit(records))
            finally:
                if commit is not None:
                    await commit

    async def tick(self) -> None:
        """Worker: let time pass for every tenant this router holds."""
        while not self.runtime.stop.is_set():
            await sleep_unless(self.runtime.stop, TICK_S)
            now = utcnow()
            for tenant, (state, _) in list(self.states.items()):
                # Else time changes nothing: no deadline or wait runs.
                if state.offers or state.wrapping or any(state.queues.values()):
                    await self._transaction([], {tenant: [(None, Tick(now))]})

    async def apply(self, records: Sequence[Record]) -> None:
        started = time.perf_counter()
        decoded: list[Envelope | None] = []  # None: not an event, parked
        for record in records:
            try:
                decoded.append(decode(record.value, topic=record.topic))
            except InvalidRecord as error:
                await dead_letter(self.runtime.bus, record, f"invalid event: {error}")
                decoded.append(None)
        await self._apply(records, decoded)
        BATCH_SECONDS.observe(time.perf_counter() - started)

    async def _apply(self, records: Sequence[Record], decoded: list[Envelope | None]) -> None:
        """Apply the records' events in one transaction; park (in cc.dead-letter.v1, with
        the reason) each record that cannot be applied, and apply the others."""
        while True:
            try:
                await self._transaction(records, _by_tenant(records, decoded))
                return
            except DecisionFailed as failure:
                # A bug in the core on one record must not stop the desk: park that record
                # and apply the rest of the batch again (its states were reloaded), as
                # often as the batch holds such records.
                await dead_letter(self.runtime.bus, failure.record, f"router failed: {failure}")
                decoded[records.index(failure.record)] = None
            except Exception as error:
                if not (records and caused_by_data(error)):
                    raise  # the database is away, or a tick failed: retried by a restart
                if len(records) == 1:
                    reason = f"router could not store it: {type(error).__name__}: {error}"
                    await dead_letter(self.runtime.bus, records[0], reason)
                    # Its offset is stored as applied: fetched again, it is skipped.
                    await self._transaction(records, {})
                    return
                # Retried as it is, the batch would fail forever and stop the desk: find
                # the record in halves, applied in order, each split again if it fails.
                half = len(records) // 2
                await self._apply(records[:half], decoded[:half])
                await self._apply(records[half:], decoded[half:])
                return

    async def _transaction(self, records: Sequence[Record], inputs: dict[str, list[Input]]) -> None:
        async with self.lock, self.runtime.unit_of_work() as uow:
            partitions = {_partition(record) for record in records}
            applied = await store.applied_offsets(uow.session, GROUP, partitions)
            stored = await store.versions(uow.session, inputs)
            now = utcnow()
            try:
                decided = 0
                for tenant, events in inputs.items():
                    state = await self._state(uow, tenant, stored.get(tenant, 0))
                    changed = False
                    decided_in: list[Envelope] = []
                    decided_out: list[Out] = []
                    for record, event in events:
                        if record and record.offset < applied.get(_partition(record), 0):
                            continue  # applied before a crash, fetched again
                        try:
                            out = self.router.decide(state, event, now)
                        except Exception as error:
                            if record is None:
                                raise  # time passing, not a record to park
                            raise DecisionFailed(record, error) from error
                        if isinstance(event, Envelope):
                            decided_in.append(event)
                        decided_out += out
                        for item in out:
                            uow.emit_encoded(
                                item.topic,
                                tenant,
                                event.follow_json(item.data, key=item.key, at=now)
                                if isinstance(event, Envelope)
                                else encode(
                                    Envelope.wrap(item.data, tenant=tenant, key=item.key, at=now)
                                ),
                            )
                        # A tick that decided nothing changed nothing worth a write.
                        changed = changed or record is not None or bool(out)
                        decided += record is not None
                    if changed:
                        touched = snapshot.touched(state, decided_in, decided_out)
                        version = await store.save(
                            uow.session, state, self.states[tenant][1], now, touched
                        )
                        self.states[tenant] = (state, version)
                        WAITING.labels(tenant).set(sum(len(q) for q in state.queues.values()))
                await store.save_offsets(uow.session, GROUP, records, applied)
                await uow.commit()
            except BaseException:
                # States in memory may now hold half a batch: forget them, the database
                # has the truth.
                for tenant in inputs:
                    self.states.pop(tenant, None)
                raise
            DECISIONS.inc(decided)

    async def _state(self, uow: UnitOfWork, tenant: str, stored_version: int) -> TenantState:
        cached = self.states.get(tenant)
        if cached is None or cached[1] != stored_version:
            cached = await store.load(uow.session, tenant)
            self.states[tenant] = cached
        return cached[0]

    def workers(self) -> list[Worker]:
        async def consume_inputs(_: Runtime) -> None:
            await self.consume()

        async def let_time_pass(_: Runtime) -> None:
            await self.tick()

        return [consume_inputs, let_time_pass, relay_outbox]


def _by_tenant(records: Sequence[Record], decoded: list[Envelope | None]) -> dict[str, list[Input]]:
    inputs: dict[str, list[Input]] = {}
    for record, envelope in zip(records, decoded, strict=True):
        if envelope is not None:
            inputs.setdefault(envelope.tenant, []).append((record, envelope))
    return inputs


def _partition(record: Record) -> store.Partition:
    return (record.topic, record.partition)


def create_app(runtime: Runtime) -> FastAPI:
    return service_app("omniroute router", runtime, workers=RouterService(runtime).workers())
