"""Outbound delivery: DeliverMessage events from cc.outbound.v1 to each provider's API.

One sender per provider. A 429 or 5xx (or a network error) is retried with
exponential backoff and jitter, honouring Retry-After; anything else, or running
out of attempts, sends the message to cc.dead-letter.v1 with the reason (the
consumer dead-letters what `deliver` declares Unprocessable).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping

import httpx
import structlog
from prometheus_client import Counter

from shared.bus.consumer import Unprocessable, consume
from shared.events import OUTBOUND, DeliverMessage, Envelope
from shared.runtime import Runtime
from shared.stopping import sleep_unless

log = structlog.get_logger(__name__)

GROUP = "channels-outbound"
DELIVERIES = Counter(
    "omniroute_deliveries_total",
    "Outbound messages by provider and outcome.",
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
