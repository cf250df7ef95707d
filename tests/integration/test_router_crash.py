"""The router killed with SIGKILL at random moments while 2,000 messages flow.

Real Kafka, real PostgreSQL, the router as its own process. Afterwards every
conversation was opened once and queued once, none was assigned twice, and no
agent holds more than their capacity. Records the relay published twice (killed
between publishing and forgetting them) carry the same event id, which is what
consumers deduplicate on.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

from shared import events as ev
from shared.bus.kafka import KafkaBus
from shared.db import create_engine
from tests.conftest import unique
from tests.integration.routing_log import read_routing, wait_until_applied
from tests.processes import OmnirouteProcess, migrate
from tests.samples import chat_message

MESSAGES = 2000
AGENTS = 20
CAPACITY = 3


async def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    kafka_bootstrap: str, fresh_postgres_url: str, tmp_path: Path
) -> None:
    prefix = unique("crash") + "."
    env = {
        "OMNIROUTE_BUS": "kafka",
        "OMNIROUTE_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "OMNIROUTE_KAFKA_TOPIC_PREFIX": prefix,
        "OMNIROUTE_DATABASE_URL": fresh_postgres_url,
    }
    await asyncio.to_thread(migrate, fresh_postgres_url)
    bus = KafkaBus(kafka_bootstrap, topic_prefix=prefix, partitions=3)
    await bus.start()
    engine = create_engine(fresh_postgres_url)
    rng = random.Random(20261124)
    kills = 0
    router = OmnirouteProcess("router", env, tmp_path / "router.log")
    try:
        await publish_desk(bus)
        sending = asyncio.create_task(publish_messages(bus))
        while not sending.done() or kills < 4:
            await asyncio.sleep(rng.uniform(0.5, 3.0))
            router.kill()  # SIGKILL, wherever it is
            kills += 1
            router = OmnirouteProcess("router", env, tmp_path / "router.log")
        await sending
        await asyncio.to_thread(router.wait_until_ready)
        await wait_until_applied(engine, records=MESSAGES + AGENTS * 2 + 2)
        assert router.stop() == 0
    finally:
        router.kill()
        await engine.dispose()

    events = await read_routing(bus)
    await bus.close()
    unique_events = {e.id: e for e in events}
    duplicates = len(events) - len(unique_events)
    by_type: dict[str, list[ev.Payload]] = {}
    for envelope in unique_events.values():
        by_type.setdefault(envelope.type, []).append(envelope.data)

    opened = Counter(d.thread_key for d in by_type["ConversationOpened"])  # type: ignore[attr-defined]
    queued = Counter(d.conversation_id for d in by_type["ConversationQueued"])  # type: ignore[attr-defined]
    assigned = Counter(d.conversation_id for d in by_type["ConversationAssigned"])  # type: ignore[attr-defined]
    per_agent = Counter(d.agent_id for d in by_type["ConversationAssigned"])  # type: ignore[attr-defined]
    print(
        f"\nrouter crash test: {kills} SIGKILLs, {MESSAGES} messages, "
        f"{len(opened)} conversations opened, {len(assigned)} assigned, "
        f"{duplicates} records republished with their original id"
    )
    assert len(opened) == MESSAGES and set(opened.values()) == {1}
    assert len(queued) == MESSAGES and set(queued.values()) == {1}
    assert set(assigned.values()) == {1}
    assert len(assigned) == AGENTS * CAPACITY  # everyone full, the rest still waiting
    assert max(per_agent.values()) <= CAPACITY


async def publish_desk(bus: KafkaBus) -> None:
    setup: list[tuple[str, str, ev.Payload]] = [
        (
            ev.CONFIG,
            "queue",
            ev.QueueUpserted(queue_id="general", name="General", auto_accept=True),
        ),
        (ev.CONFIG, "rules", ev.RoutingRulesChanged(default_queue_id="general")),
    ]
    for n in range(AGENTS):
        setup.append(
            (
                ev.CONFIG,
                f"a{n}",
                ev.AgentUpserted(
                    agent_id=f"a{n}", name=f"Agent {n}", capacity={ev.Channel.CHAT: CAPACITY}
                ),
            )
        )
        setup.append(
            (
                ev.AGENT_EVENTS,
                f"a{n}",
                ev.AgentStatusChanged(agent_id=f"a{n}", status=ev.AgentStatus.AVAILABLE),
            )
        )
    for topic, key, payload in setup:
        await bus.publish(topic, "acme", ev.Envelope.wrap(payload, tenant="acme", key=key))


async def publish_messages(bus: KafkaBus) -> None:
    for n in range(MESSAGES):
        message = chat_message(n)
        await bus.publish(ev.INBOUND, "acme", ev.Envelope.wrap(message, tenant="acme", key=f"s{n}"))
        if n % 100 == 0:
            await asyncio.sleep(0.05)  # a steady flow, not one burst
