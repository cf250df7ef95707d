"""Two router processes in one consumer group over six partitions and six tenants, on
the real Kafka and PostgreSQL. They split the tenants between them; one is killed with
SIGKILL mid-flow, and the other takes its tenants over from the stored state. Each
tenant is served by one router at a time, and nothing is routed twice."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

import httpx

from shared import events as ev
from shared.bus.kafka import KafkaBus
from shared.db import create_engine
from tests.conftest import unique
from tests.integration.routing_log import read_routing, wait_until_applied
from tests.processes import OmnirouteProcess, migrate
from tests.samples import chat_message

TENANTS = [f"t{n}" for n in range(6)]
AGENTS, CAPACITY, MESSAGES = 4, 2, 50  # per tenant


def desk_of(tenant: str) -> list[tuple[str, str, ev.Payload]]:
    setup: list[tuple[str, str, ev.Payload]] = [
        (ev.CONFIG, "q", ev.QueueUpserted(queue_id="general", name="General", auto_accept=True)),
        (ev.CONFIG, "r", ev.RoutingRulesChanged(default_queue_id="general")),
    ]
    for n in range(AGENTS):
        agent = f"{tenant}-a{n}"
        capacity = {ev.Channel.CHAT: CAPACITY}
        setup.append(
            (ev.CONFIG, agent, ev.AgentUpserted(agent_id=agent, name=agent, capacity=capacity))
        )
        status = ev.AgentStatusChanged(agent_id=agent, status=ev.AgentStatus.AVAILABLE)
        setup.append((ev.AGENT_EVENTS, agent, status))
    return setup


def messages(start: int, stop: int) -> list[tuple[str, str, ev.Payload]]:
    return [(ev.INBOUND, f"s{n}", chat_message(n)) for n in range(start, stop)]


async def publish(bus: KafkaBus, tenant: str, items: list[tuple[str, str, ev.Payload]]) -> None:
    for topic, key, payload in items:
        await bus.publish(topic, tenant, ev.Envelope.wrap(payload, tenant=tenant, key=key))


async def tenants_served(router: OmnirouteProcess) -> set[str]:
    """Tenants whose state this router process has written (its per-tenant gauge)."""
    async with httpx.AsyncClient(base_url=router.base_url) as client:
        metrics = (await client.get("/metrics")).text
    return set(re.findall(r'omniroute_router_waiting\{tenant="([^"]+)"\}', metrics))


async def test_two_routers_split_the_tenants_and_one_takes_over_when_the_other_dies(
    kafka_bootstrap: str, fresh_postgres_url: str, tmp_path: Path
) -> None:
    prefix = unique("scale") + "."
    env = {
        "OMNIROUTE_BUS": "kafka",
        "OMNIROUTE_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "OMNIROUTE_KAFKA_TOPIC_PREFIX": prefix,
        "OMNIROUTE_KAFKA_PARTITIONS": "6",
        "OMNIROUTE_DATABASE_URL": fresh_postgres_url,
    }
    await asyncio.to_thread(migrate, fresh_postgres_url)
    bus = KafkaBus(kafka_bootstrap, topic_prefix=prefix, partitions=6)
    await bus.start()
    engine = create_engine(fresh_postgres_url)
    first = OmnirouteProcess("router", env, tmp_path / "router-1.log")
    second = OmnirouteProcess("router", env, tmp_path / "router-2.log")
    try:
        await asyncio.to_thread(first.wait_until_ready)
        await asyncio.to_thread(second.wait_until_ready)
        await asyncio.sleep(8)  # the group settles: each router owns three partitions
        for tenant in TENANTS:
            await publish(bus, tenant, desk_of(tenant))
            await publish(bus, tenant, messages(0, MESSAGES // 2))
        await wait_until_applied(engine, records=len(TENANTS) * (2 + 2 * AGENTS + MESSAGES // 2))
        split = (await tenants_served(first), await tenants_served(second))

        first.kill()  # SIGKILL: the survivor gets its partitions when the group notices
        for tenant in TENANTS:
            await publish(bus, tenant, messages(MESSAGES // 2, MESSAGES))
        await wait_until_applied(engine, records=len(TENANTS) * (2 + 2 * AGENTS + MESSAGES))
        survivor = await tenants_served(second)
    finally:
        first.kill()
        second.kill()
        await engine.dispose()

    events = {e.id: e for e in await read_routing(bus)}.values()
    await bus.close()
    opened = Counter(
        (e.tenant, e.data.thread_key) for e in events if isinstance(e.data, ev.ConversationOpened)
    )
    assigned = Counter(
        e.data.conversation_id for e in events if isinstance(e.data, ev.ConversationAssigned)
    )
    load = Counter(
        (e.tenant, e.data.agent_id) for e in events if isinstance(e.data, ev.ConversationAssigned)
    )
    print(
        f"\nscale-out: first router served {sorted(split[0])}, second {sorted(split[1])}; "
        f"after the kill the second served {sorted(survivor)}; "
        f"{sum(opened.values())} conversations opened, {len(assigned)} assigned"
    )
    assert split[0] and split[1] and not split[0] & split[1]  # one router per tenant
    assert split[0] | split[1] == set(TENANTS)
    assert survivor == set(TENANTS)  # the survivor took the dead router's tenants over
    assert len(opened) == len(TENANTS) * MESSAGES and set(opened.values()) == {1}
    assert set(assigned.values()) == {1}  # nothing routed twice
    assert len(assigned) == len(TENANTS) * AGENTS * CAPACITY  # everyone full, the rest wait
    assert max(load.values()) <= CAPACITY
