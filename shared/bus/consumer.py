"""Consume a group's records as validated events; refused records go to cc.dead-letter.v1.

A record that is not a valid event for its topic, or that its handler keeps
failing on, is published to the dead-letter topic with the reason and then
committed like any other: one bad record never stops a consumer, and nothing
accepted is lost (the dead-letter record holds it whole). A handler that fails
because the database or the bus is away is no reason to park a record: it is
tried again until the dependency is back (shared/failures.py tells the two apart).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence

import structlog

from shared.bus.base import Bus, Record
from shared.events import DEAD_LETTER, DeadLettered, Envelope, InvalidRecord, decode
from shared.failures import dependency_away
from shared.observability import DEAD_LETTERS, EVENTS_CONSUMED
from shared.stopping import sleep_unless

log = structlog.get_logger(__name__)

Handler = Callable[[Envelope], Awaitable[None]]
BatchHandler = Callable[[Sequence[Envelope]], Awaitable[None]]


class Unprocessable(Exception):
    """Raised by a handler for a record that can never be handled (the message is the
    reason): it goes to the dead letters at once, without retries."""


_TENANT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Dead letters of records whose key is not a tenant id are filed under this tenant.
UNKNOWN_TENANT = "unknown"
# The longest wait between two tries of a record while a dependency is away.
MAX_WAIT_S = 5.0


async def consume(
    bus: Bus,
    topics: Sequence[str],
    group: str,
    handler: Handler,
    *,
    stop: asyncio.Event,
    batch_handler: BatchHandler | None = None,
    attempts: int = 3,
    retry_delay_s: float = 0.2,
) -> None:
    """Hand every record of `topics` to `handler`, committing each batch after it is done.

    With a `batch_handler`, a fetched batch goes to it whole first (one transaction
    instead of one per record, which a consumer behind needs to catch up); a batch
    it fails on is handed over record by record, so that only the bad record is retried
    and dead-lettered. Either handler must be idempotent. Returns when `stop` is set,
    after finishing and committing the batch in hand.
    """
    async with bus.subscribe(topics, group) as subscription:
        while not stop.is_set():
            records = await subscription.fetch(timeout_s=0.5)
            done = records
            if not (batch_handler and await _handle_batch(records, batch_handler)):
                done = []
                for record in records:
                    if not await _handle(
                        bus,
                        record,
                        handler,
                        stop=stop,
                        attempts=attempts,
                        retry_delay_s=retry_delay_s,
                    ):
                        break  # stopped while a dependency was away: the rest comes again
                    done.append(record)
            for record in done:
                EVENTS_CONSUMED.labels(group, record.topic).inc()
            await subscription.commit(done)


async def _handle_batch(records: Sequence[Record], batch_handler: BatchHandler) -> bool:
    """Whether the whole batch was handled; False leaves it to the record-by-record path."""
    if not records:
        return True
    try:
        envelopes = [decode(record.value, topic=record.topic) for record in records]
    except InvalidRecord:
        return False
    try:
        await batch_handler(envelopes)
    except Exception as error:
        log.warning("bus.batch_failed", records=len(records), error=repr(error))
        return False
    return True


async def _handle(
    bus: Bus,
    record: Record,
    handler: Handler,
    *,
    stop: asyncio.Event,
    attempts: int,
    retry_delay_s: float,
) -> bool:
    """Handle or park the record; False if `stop` came while a dependency was away."""
    try:
        envelope = decode(record.value, topic=record.topic)
    except InvalidRecord as error:
        await dead_letter(bus, record, f"invalid event: {error}")
        return True
    failures = waits = 0
    while True:
        try:
            await handler(envelope)
            return True
        except Unprocessable as error:
            await dead_letter(bus, record, str(error))
            return True
        except Exception as error:
            context = {"topic": record.topic, "offset": record.offset, "error": repr(error)}
            if dependency_away(error):
                # Not the record's fault: parked, it would be missing from the desk for
                # good. It waits, and everything behind it, as long as the outage lasts.
                waits += 1
                delay = min(retry_delay_s * 2 ** min(waits, 10), MAX_WAIT_S)
                log.warning("bus.dependency_away", **context, retry_in_s=delay)
                await sleep_unless(stop, delay)
                if stop.is_set():
                    return False
                continue
            failures += 1
            log.warning(
                "bus.handler_failed",
                **context,
                event_id=envelope.id,
                event_type=envelope.type,
                attempt=failures,
            )
            if failures == attempts:
                await dead_letter(
                    bus, record, f"handler failed {attempts} times: {type(error).__name__}: {error}"
                )
                return True
            await asyncio.sleep(retry_delay_s * 2 ** (failures - 1))


async def dead_letter(bus: Bus, record: Record, reason: str) -> None:
    tenant = record.key if record.key and _TENANT.match(record.key) else UNKNOWN_TENANT
    payload = record.value
    room = bus.max_record_bytes // 2  # JSON escaping can double the text
    if len(payload) > room:
        payload = payload[:room]
        reason += f"; payload truncated to {room} bytes, the whole record stays on its topic"
    log.warning(
        "bus.dead_lettered",
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        reason=reason,
    )
    envelope = Envelope.wrap(
        DeadLettered(
            reason=reason,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            record_key=record.key,
            payload=payload.decode(errors="replace"),
        ),
        tenant=tenant,
        key=f"{record.topic}/{record.partition}/{record.offset}",
    )
    await bus.publish(DEAD_LETTER, tenant, envelope)
    DEAD_LETTERS.labels(record.topic).inc()
