"""Consume a group's records as validated events; refused records go to cc.dead-letter.v1.

A record that is not a valid event for its topic, or that its handler keeps
failing on, is published to the dead-letter topic with the reason and then
committed like any other: one bad record never stops a consumer, and nothing
accepted is lost (the dead-letter record holds it whole).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence

import structlog

from shared.bus.base import Bus, Record
from shared.events import DEAD_LETTER, DeadLettered, Envelope, InvalidRecord, decode
from shared.observability import DEAD_LETTERS, EVENTS_CONSUMED

log = structlog.get_logger(__name__)

Handler = Callable[[Envelope], Awaitable[None]]
BatchHandler = Callable[[Sequence[Envelope]], Awaitable[None]]


class Unprocessable(Exception):
    """Raised by a handler for a record that can never be handled (the message is the
    reason): it goes to the dead letters at once, without retries."""


_TENANT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Dead letters of records whose key is not a tenant id are filed under this tenant.
UNKNOWN_TENANT = "unknown"


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
            if not (batch_handler and await _handle_batch(records, batch_handler)):
                for record in records:
                    await _handle(
                        bus, record, handler, attempts=attempts, retry_delay_s=retry_delay_s
                    )
            for record in records:
                EVENTS_CONSUMED.labels(group, record.topic).inc()
            await subscription.commit(records)


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
    bus: Bus, record: Record, handler: Handler, *, attempts: int, retry_delay_s: float
) -> None:
    try:
        envelope = decode(record.value, topic=record.topic)
    except InvalidRecord as error:
        await dead_letter(bus, record, f"invalid event: {error}")
        return
    for attempt in range(1, attempts + 1):
        try:
            await handler(envelope)
            return
        except Unprocessable as error:
            await dead_letter(bus, record, str(error))
            return
        except Exception as error:
            log.warning(
                "bus.handler_failed",
                topic=record.topic,
                offset=record.offset,
                event_id=envelope.id,
                event_type=envelope.type,
                attempt=attempt,
                error=repr(error),
            )
            if attempt == attempts:
                await dead_letter(
                    bus, record, f"handler failed {attempts} times: {type(error).__name__}: {error}"
                )
                return
            await asyncio.sleep(retry_delay_s * 2 ** (attempt - 1))


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
