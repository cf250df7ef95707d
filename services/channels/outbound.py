"""Outbound delivery: DeliverMessage events from cc.outbound.v1 to each provider's API.

One sender per provider. A 429 or 5xx (or a network error) is retried with
exponential backoff and jitter, honouring Retry-After; anything else, or running
out of attempts, sends the message to cc.dead-letter.v1 with the reason (the
consumer dead-letters what `deliver` declares Unprocessable).

A message is delivered once: each delivery is remembered (channel_deliveries) and one
asked for again is skipped. A relay publishes again what it published just before a
crash, a worker killed before it committed gets its records again, and an agent's reply
decided twice by the router is one message id in two events: the customer sees one.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping

import httpx
import structlog
from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError

from shared.bus.consumer import MAX_WAIT_S, Unprocessable, consume
from shared.db.models import ChannelDelivery
from shared.events import OUTBOUND, DeliverMessage, Envelope, utcnow
from shared.failures import dependency_away
from shared.runtime import Runtime
from shared.stopping import sleep_unless

log = structlog.get_logger(__name__)

GROUP = "channels-outbound"
DELIVERIES = Counter(
    "omniroute_deliveries_total",
    "Outbound messages by provider and outcome (sent, retried, failed, repeated).",
    ["provider", "outcome"],
)

# Sends one message; returns the provider's response (raise for network errors).
Send = Callable[[httpx.AsyncClient, Runtime, Envelope, DeliverMessage], Awaitable[httpx.Response]]


class PermanentFailure(Exception):
    """The provider refused the message; trying again would not help."""


async def deliver(
    client: httpx.AsyncClient,
    runtime: Runtime,
    envelope: Envelope,
    senders: Mapping[str, Send],
    *,
    base_delay_s: float = 0.5,
    max_delay_s: float = 60.0,
) -> None:
    assert isinstance(envelope.data, DeliverMessage)
    message = envelope.data
    delivery = delivery_id(envelope)
    if await _delivered_before(runtime, delivery):
        DELIVERIES.labels(message.provider, "repeated").inc()
        log.info("delivery.repeated", provider=message.provider, event_id=envelope.id)
        return
    send = senders.get(message.provider)
    if send is None:
        raise _give_up(message, f"no sender for provider {message.provider!r}")
    attempts = runtime.settings.delivery_attempts
    for attempt in range(1, attempts + 1):
        try:
            response = await send(client, runtime, envelope, message)
        except PermanentFailure as error:
            raise _give_up(message, str(error)) from error
        except httpx.TransportError as error:
            reason, wait = f"{type(error).__name__}: {error}", None
        else:
            if response.is_success:
                DELIVERIES.labels(message.provider, "sent").inc()
                await _remember(runtime, envelope, delivery)
                return
            reason = f"{message.provider} answered {response.status_code}: {response.text[:200]}"
            if response.status_code != 429 and response.status_code < 500:
                raise _give_up(message, reason)
            wait = _retry_after(response)
        if attempt == attempts:
            raise _give_up(message, f"{reason} (after {attempts} attempts)")
        DELIVERIES.labels(message.provider, "retried").inc()
        # Full jitter: many desks retrying after one outage do not all come back at once.
        delay = (
            wait
            if wait is not None
            else random.uniform(0, min(max_delay_s, base_delay_s * 2**attempt))  # noqa: S311
        )
        log.info(
            "delivery.retry", provider=message.provider, attempt=attempt, delay_s=round(delay, 2)
        )
        await sleep_unless(runtime.stop, delay)


def delivery_id(envelope: Envelope) -> str:
    """What makes a delivery the same one: the transcript's message id, else the event's."""
    assert isinstance(envelope.data, DeliverMessage)
    return envelope.data.message_id or envelope.id


async def _delivered_before(runtime: Runtime, delivery: str) -> bool:
    async with runtime.sessions() as session:
        return await session.get(ChannelDelivery, delivery) is not None


async def _remember(runtime: Runtime, envelope: Envelope, delivery: str) -> None:
    """Record the delivery. The customer has the message now: a failure here must not
    make the consumer try the record again, which would send it again."""
    assert isinstance(envelope.data, DeliverMessage)
    row = ChannelDelivery(
        delivery_id=delivery,
        tenant=envelope.tenant,
        provider=envelope.data.provider,
        delivered_at=utcnow(),
    )
    wait = 0.2
    while True:
        try:
            async with runtime.sessions() as session, session.begin():
                session.add(row)
            return
        except IntegrityError:
            return  # remembered already
        except Exception as error:
            if not dependency_away(error) or runtime.stop.is_set():
                # Forgotten, it could be sent again if asked again: rare, and better
                # than sending it again now.
                log.error("delivery.not_remembered", event_id=envelope.id, error=repr(error))
                return
            await sleep_unless(runtime.stop, wait)
            wait = min(2 * wait, MAX_WAIT_S)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


def _give_up(message: DeliverMessage, reason: str) -> Unprocessable:
    DELIVERIES.labels(message.provider, "failed").inc()
    return Unprocessable(f"delivery failed: {reason}")


def delivery_worker(senders: Mapping[str, Send]) -> Callable[[Runtime], Awaitable[None]]:
    async def deliver_outbound(runtime: Runtime) -> None:
        async with httpx.AsyncClient(timeout=10) as client:

            async def handle(envelope: Envelope) -> None:
                if isinstance(envelope.data, DeliverMessage):
                    await deliver(client, runtime, envelope, senders)

            await consume(runtime.bus, [OUTBOUND], GROUP, handle, stop=runtime.stop)

    return deliver_outbound
