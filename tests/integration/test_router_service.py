"""The router service on both stacks: LocalBus + SQLite and Kafka + PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from services.agents import readmodel
from services.router import store
from services.router.core.decide import Out, Router, Tick
from services.router.core.state import TenantState
from services.router.service import GROUP, INPUT_TOPICS, RouterService
from shared import events as ev
from shared.bus.base import Bus, Record
from shared.bus.kafka import KafkaBus
from shared.bus.local import LocalBus
from shared.config import Settings
from shared.db.migrate import upgrade_async
from shared.db.models import ReadConversation
from shared.db.outbox import relay
from shared.runtime import Runtime, bootstrap
from tests.conftest import unique
from tests.integration.test_bus_contract import nothing_more, take
from tests.samples import chat_message


@dataclass
class Stack:
    bus: Bus
    database_url: str

    def runtime(self) -> Runtime:
        return bootstrap(Settings(database_url=self.database_url), bus=self.bus)


@pytest.fixture(params=["local+sqlite", "kafka+postgres"])
def stack_settings(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """The two pairings that run: embedded (LocalBus + SQLite), production (Kafka + PostgreSQL)."""
    if request.param == "local+sqlite":
        return str(tmp_path / "bus.sqlite3"), f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    bootstrap_servers: str = request.getfixturevalue("kafka_bootstrap")
    database_url: str = request.getfixturevalue("fresh_postgres_url")
    return bootstrap_servers, database_url


@pytest.fixture
async def stack(stack_settings: tuple[str, str]) -> AsyncIterator[Stack]:
    where, url = stack_settings
    bus: Bus = (
        LocalBus(Path(where))
        if url.startswith("sqlite")
        else KafkaBus(where, topic_prefix=unique("router") + ".", partitions=3)
    )
    await bus.start()
    await upgrade_async(url)
    yield Stack(bus, url)
    await bus.close()


def setup_events() -> list[tuple[str, ev.Payload]]:
    return [
        (ev.CONFIG, ev.QueueUpserted(queue_id="general", name="General", offer_timeout_s=5)),
        (ev.CONFIG, ev.RoutingRulesChanged(default_queue_id="general")),
        (ev.CONFIG, ev.AgentUpserted(agent_id="ana", name="Ana", capacity={ev.Channel.CHAT: 2})),
        (ev.AGENT_EVENTS, ev.AgentStatusChanged(agent_id="ana", status=ev.AgentStatus.AVAILABLE)),
    ]


async def publish(bus: Bus, items: list[tuple[str, ev.Payload]]) -> None:
    for topic, payload in items:
        await bus.publish(topic, "acme", ev.Envelope.wrap(payload, tenant="acme", key="k"))


async def fetch_inputs(bus: Bus, count: int) -> list[Record]:
    async with bus.subscribe(INPUT_TOPICS, GROUP) as subscription:
        return await take(subscription, count)


async def routing_events(runtime: Runtime, count: int) -> list[ev.Envelope]:
    """The first `count` routing events about conversations (agents' presence left out),
    relaying the outbox meanwhile as the service does."""
    done = asyncio.Event()
    relaying = asyncio.create_task(relay(runtime.sessions, runtime.bus, stop=done, idle_s=0.1))
    found: list[ev.Envelope] = []
    try:
        async with runtime.bus.subscribe([ev.ROUTING], "test-reader") as subscription:
            while len(found) < count:
                for record in await take(subscription, 1):
                    event = ev.decode(record.value, topic=ev.ROUTING)
                    if not isinstance(event.data, ev.AgentStatusChanged):
                        found.append(event)
    finally:
        done.set()
        await relaying
    return found


async def test_messages_are_routed_and_the_decisions_published_with_their_cause(
    stack: Stack,
) -> None:
    runtime = stack.runtime()
    router = RouterService(runtime)
    await publish(stack.bus, setup_events())
    await router.apply(await fetch_inputs(stack.bus, 4))
    await publish(stack.bus, [(ev.INBOUND, chat_message(1))])
    records = await fetch_inputs(stack.bus, 5)

    await router.apply(records)

    routed = await routing_events(runtime, 5)
    assert [e.type for e in routed] == [
        "ConversationOpened",
        "ComplexityScored",
        "MessageAppended",
        "ConversationQueued",
        "OfferCreated",
    ]
    [inbound] = [ev.decode(r.value) for r in records if r.topic == ev.INBOUND]
    assert {e.causation for e in routed} == {inbound.id}
    assert {e.tenant for e in routed} == {"acme"}
    await runtime.close_database()


async def test_a_batch_applied_again_after_a_crash_changes_nothing(stack: Stack) -> None:
    runtime = stack.runtime()
    await publish(
        stack.bus, [*setup_events(), (ev.INBOUND, chat_message(1)), (ev.INBOUND, chat_message(2))]
    )
    records = await fetch_inputs(stack.bus, 6)
    await RouterService(runtime).apply(records)

    # The process died after its transaction but before committing to the bus:
    # a new process fetches the same records again.
    restarted = RouterService(runtime)
    async with runtime.sessions() as session:
        restarted.states = await store.load_all(session)
    await restarted.apply(records)

    routed = await routing_events(runtime, 10)
    assert [e.type for e in routed].count("ConversationOpened") == 2
    assert [e.type for e in routed].count("OfferCreated") == 2
    async with runtime.bus.subscribe([ev.ROUTING], "test-reader-2") as subscription:
        await take(subscription, 11)  # the ten and Ana's presence
        assert await subscription.fetch(timeout_s=1.5) == []
    await runtime.close_database()


async def test_a_restarted_router_keeps_its_offers_and_their_deadlines(stack: Stack) -> None:
    runtime = stack.runtime()
    await publish(stack.bus, [*setup_events(), (ev.INBOUND, chat_message(1))])
    first = RouterService(runtime)
    await first.apply(await fetch_inputs(stack.bus, 5))

    second = RouterService(runtime)
    runtime.stop.set()  # consume() restores state and returns at once
    await second.consume()
    [(state, _)] = second.states.values()
    [conversation] = state.conversations.values()
    offer = conversation.offer
    assert offer is not None and offer.agent_id == "ana"

    runtime.stop.clear()
    ticker = asyncio.create_task(second.tick())
    routed = await routing_events(runtime, 6)  # the sixth comes after the 5 s offer timeout
    runtime.stop.set()
    await ticker
    assert routed[-1].data == ev.OfferExpired(
        offer_id=offer.offer_id,
        conversation_id=conversation.conversation_id,
        agent_id="ana",
    )
    await runtime.close_database()


async def test_a_restarted_router_ends_a_wrap_up_when_its_time_runs_out(stack: Stack) -> None:
    runtime = stack.runtime()
    queue = ev.QueueUpserted(queue_id="general", name="General", auto_accept=True, wrap_up_s=2)
    await publish(
        stack.bus, [(ev.CONFIG, queue), *setup_events()[1:], (ev.INBOUND, chat_message(1))]
    )
    first = RouterService(runtime)
    await first.apply(await fetch_inputs(stack.bus, 5))
    [(state, _)] = first.states.values()
    [cid] = state.conversations
    close = ev.ConversationCloseRequested(conversation_id=cid, by_agent_id="ana", disposition="ok")
    await publish(stack.bus, [(ev.AGENT_EVENTS, close)])
    await first.apply(await fetch_inputs(stack.bus, 6))

    second = RouterService(runtime)  # knows of the wrap-up only from the database
    runtime.stop.set()
    await second.consume()
    runtime.stop.clear()
    ticker = asyncio.create_task(second.tick())
    routed = await routing_events(runtime, 8)  # the eighth comes after the 2 s of wrap-up
    runtime.stop.set()
    await ticker
    assert [e.type for e in routed[-3:]] == ["ConversationClosed", "WrapUpStarted", "WrapUpEnded"]
    assert routed[-1].data == ev.WrapUpEnded(agent_id="ana", conversation_id=cid, reason="timeout")
    [(state, _)] = second.states.values()
    assert state.agents["ana"].load == {ev.Channel.CHAT: 0}
    await runtime.close_database()


LONG_ADDRESS = "a" * 240 + "@example.com"
LONG_THREAD = "<" + "t" * 900 + "@mail.example.com>"


@pytest.mark.parametrize(
    ("thread", "address", "text", "stored"),
    [
        # An email address may run to 254 characters and a Message-ID (the thread) to a
        # header line: PostgreSQL refused them in columns of 200 (SQLite never checks).
        (LONG_THREAD, LONG_ADDRESS, "refund please", (LONG_THREAD, LONG_ADDRESS, "refund please")),
        # PostgreSQL's text holds no NUL: the contract drops it from what customers send.
        ("<t\x00@x>", "lu\x00cia@x.com", "my\x00 refund", ("<t@x>", "lucia@x.com", "my refund")),
    ],
    ids=["long identifiers", "NUL characters"],
)  # fmt: skip
async def test_awkward_provider_input_is_routed_and_kept(
    stack: Stack, thread: str, address: str, text: str, stored: tuple[str, str, str]
) -> None:
    """What a provider sends as it is must not stop the router or the desk's read model:
    each stopped on PostgreSQL at the first such record, and every record after it waited."""
    runtime = stack.runtime()
    message = chat_message(1).model_copy(  # as it comes: model_copy does not validate
        update={
            "channel": ev.Channel.EMAIL,
            "thread_key": thread,
            "provider_message_id": thread,
            "customer": ev.Customer.model_construct(id=address, name=address),
            "text": text,
        }
    )
    await publish(stack.bus, [*setup_events(), (ev.INBOUND, message)])
    router = RouterService(runtime)
    await router.apply(await fetch_inputs(stack.bus, 5))

    routed = await routing_events(runtime, 4)
    opened, appended = routed[0].data, routed[2].data
    assert isinstance(opened, ev.ConversationOpened)
    assert isinstance(appended, ev.MessageAppended)
    assert (opened.thread_key, opened.customer.id, appended.text) == stored
    async with runtime.sessions() as session:
        restored, _ = await store.load(session, "acme")
    assert list(restored.contacts) == [stored[1]]
    async with runtime.sessions() as session, session.begin():  # as the agents service does
        await readmodel.apply(session, routed)
    async with runtime.sessions() as session:
        row = await session.get(ReadConversation, opened.conversation_id)
    assert row is not None and (row.thread, row.customer_id) == stored[:2]
    await runtime.close_database()


class PoisonedRouter:
    """A core that, on messages saying "poison", does `harm` to the state first."""

    def __init__(self, harm: Callable[[TenantState, datetime], None]) -> None:
        self.router = Router()
        self.harm = harm

    def decide(self, state: TenantState, event: ev.Envelope | Tick, now: datetime) -> list[Out]:
        if isinstance(event, ev.Envelope) and "poison" in getattr(event.data, "text", ""):
            self.harm(state, now)
        return self.router.decide(state, event, now)


def a_bug(state: TenantState, now: datetime) -> None:
    raise RuntimeError("a bug in the core")


def unstorable(state: TenantState, now: datetime) -> None:
    """Keep what the database refuses: a customer id with half an emoji, which no UTF-8
    encoder takes."""
    state.contacts["visitor-\ud83d"] = [now]
    state.customers_changed.add("visitor-\ud83d")


async def test_records_the_core_fails_on_are_parked_and_the_rest_of_the_batch_routed(
    stack: Stack,
) -> None:
    runtime = stack.runtime()
    router = RouterService(runtime)
    router.router = PoisonedRouter(a_bug)
    poison = [chat_message(n, text="poison") for n in (1, 2)]
    await publish(
        stack.bus,
        [*setup_events(), *((ev.INBOUND, p) for p in poison), (ev.INBOUND, chat_message(3))],
    )

    await router.apply(await fetch_inputs(stack.bus, 7))

    routed = await routing_events(runtime, 5)
    async with runtime.bus.subscribe([ev.DEAD_LETTER], "test-dead") as subscription:
        parked = [ev.decode(r.value).data for r in await take(subscription, 2)]
    opened = [e.data for e in routed if isinstance(e.data, ev.ConversationOpened)]
    reasons = [p.reason for p in parked if isinstance(p, ev.DeadLettered)]
    assert [o.thread_key for o in opened] == ["session-3"]
    assert reasons == ["router failed: RuntimeError: a bug in the core"] * 2
    await runtime.close_database()


async def test_a_record_whose_decision_the_database_refuses_is_parked_and_the_rest_routed(
    stack: Stack,
) -> None:
    runtime = stack.runtime()
    router = RouterService(runtime)
    router.router = PoisonedRouter(unstorable)
    await publish(
        stack.bus,
        [
            *setup_events(),
            (ev.INBOUND, chat_message(1)),
            (ev.INBOUND, chat_message(2, text="poison")),
            (ev.INBOUND, chat_message(3)),
        ],
    )
    records = await fetch_inputs(stack.bus, 7)

    # Retried whole, the batch failed forever and every conversation of the desk waited.
    await router.apply(records)
    await router.apply(records)  # fetched again after a crash: nothing applied twice

    routed = await routing_events(runtime, 10)
    async with runtime.bus.subscribe([ev.DEAD_LETTER], "test-dead") as subscription:
        [parked] = [ev.decode(r.value).data for r in await take(subscription, 1)]
        await nothing_more(subscription)
    opened = [e.data.thread_key for e in routed if isinstance(e.data, ev.ConversationOpened)]
    assert opened == ["session-1", "session-3"]
    assert isinstance(parked, ev.DeadLettered)
    assert parked.reason.startswith("router could not store it: ")
    assert "session-2" in parked.payload
    await runtime.close_database()
