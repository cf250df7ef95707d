"""Records a consumer cannot use go to cc.dead-letter.v1 with the reason; it keeps going."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from shared.bus.base import Bus
from shared.bus.consumer import consume
from shared.events import (
    DEAD_LETTER,
    INBOUND,
    Channel,
    Customer,
    DeadLettered,
    Envelope,
    MessageReceived,
    OfferExpired,
    decode,
)
from tests.conftest import BusFactory
from tests.integration.test_bus_contract import nothing_more, take


def message(text: str) -> Envelope:
    return Envelope.wrap(
        MessageReceived(
            channel=Channel.CHAT,
            provider="webchat",
            provider_message_id=f"m-{text}",
            thread_key="session-1",
            customer=Customer(id="visitor-1"),
            text=text,
        ),
        tenant="acme",
        key="session-1",
    )


async def consume_until(
    bus: Bus, handled: list[str], count: int, *, batched: bool, fail_on: str = ""
) -> None:
    """Run the router's kind of consumer until `count` messages are handled, then stop it.
    `batched` adds a batch handler that, like a transaction, keeps all of a batch or none."""
    stop = asyncio.Event()

    def handle(envelope: Envelope, into: list[str]) -> None:
        assert isinstance(envelope.data, MessageReceived)
        if envelope.data.text == fail_on:
            raise RuntimeError("cannot handle this one")
        into.append(envelope.data.text)

    async def handler(envelope: Envelope) -> None:
        handle(envelope, handled)
        if len(handled) == count:
            stop.set()

    async def batch_handler(envelopes: Sequence[Envelope]) -> None:
        batch: list[str] = []
        for envelope in envelopes:
            handle(envelope, batch)
        handled.extend(batch)
        if len(handled) == count:
            stop.set()

    await asyncio.wait_for(
        consume(
            bus,
            [INBOUND],
            "router",
            handler,
            batch_handler=batch_handler if batched else None,
            stop=stop,
            retry_delay_s=0.01,
        ),
        timeout=60,
    )


async def dead_letters(bus: Bus, count: int) -> list[DeadLettered]:
    async with bus.subscribe([DEAD_LETTER], "inspector") as subscription:
        records = await take(subscription, count)
    letters = [decode(record.value, topic=DEAD_LETTER).data for record in records]
    assert all(isinstance(letter, DeadLettered) for letter in letters)
    return letters  # type: ignore[return-value]


@pytest.fixture(params=[False, True], ids=["one by one", "in batches"])
def batched(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def test_invalid_records_are_dead_lettered_with_the_reason_and_the_rest_is_handled(
    make_bus: BusFactory, batched: bool
) -> None:
    bus = await make_bus()
    routing_event = Envelope.wrap(
        OfferExpired(offer_id="o1", conversation_id="c1", agent_id="a1"), tenant="acme", key="c1"
    )
    await bus.publish(INBOUND, "acme", message("hello"))
    await bus.publish(INBOUND, "acme", b"{not json")
    await bus.publish(INBOUND, "acme", b'{"type": "Teleported", "tenant": "acme"}')
    await bus.publish(INBOUND, "acme", routing_event)
    await bus.publish(INBOUND, "acme", message("still here"))

    handled: list[str] = []
    await consume_until(bus, handled, 2, batched=batched)

    assert handled == ["hello", "still here"]
    letters = await dead_letters(bus, 3)
    assert [letter.payload for letter in letters[:2]] == [
        "{not json",
        '{"type": "Teleported", "tenant": "acme"}',
    ]
    assert "Invalid JSON" in letters[0].reason
    assert "unknown event type 'Teleported'" in letters[1].reason
    assert "OfferExpired does not belong on cc.inbound.v1" in letters[2].reason
    assert {(letter.topic, letter.record_key) for letter in letters} == {(INBOUND, "acme")}
    # The consumer committed past the bad records: a restart does not see them again.
    async with bus.subscribe([INBOUND], "router") as subscription:
        await nothing_more(subscription)


async def test_a_record_the_handler_keeps_failing_on_is_dead_lettered_after_retries(
    make_bus: BusFactory, batched: bool
) -> None:
    bus = await make_bus()
    for text in ("before", "poison", "after"):
        await bus.publish(INBOUND, "acme", message(text))

    handled: list[str] = []
    await consume_until(bus, handled, 2, batched=batched, fail_on="poison")

    assert handled == ["before", "after"]
    [letter] = await dead_letters(bus, 1)
    assert letter.reason == "handler failed 3 times: RuntimeError: cannot handle this one"
    assert decode(letter.payload.encode(), topic=INBOUND).data == message("poison").data
