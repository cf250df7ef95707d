"""Chaos: messages from several tenants flow through channels, router and agents as
separate processes while a random service is killed with SIGKILL every few seconds,
Kafka is restarted once and PostgreSQL is restarted once.

Customers write on Telegram (retrying, as Telegram does, until they get a 200); agents
work through the agents API (long-poll offers, accept or decline, reply, close) and
retry whatever a dead service did not answer. Afterwards, from cc.routing.v1 and the
fake Telegram: no accepted message lost, no conversation assigned twice, no agent over
capacity, every offer resolved, every conversation closed, every accepted reply delivered,
and none delivered more often than the agent sent it.

The test starts its own Kafka and PostgreSQL, since it restarts them. `make test` runs
1,500 messages; `make chaos` runs 10,000 (OMNIROUTE_CHAOS_MESSAGES).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from shared import events as ev
from shared.bus.kafka import KafkaBus
from tests.fake_providers import FakeProvider, fake_provider
from tests.integration.routing_log import read_routing
from tests.processes import ROOT, OmnirouteProcess, free_port, migrate, run_cli

MESSAGES = int(os.environ.get("OMNIROUTE_CHAOS_MESSAGES", "1500"))
TENANTS = ("acme", "globex", "initech")
AGENTS = 4  # per tenant
CAPACITY = 3
CHATS = max(20, MESSAGES // 15)  # per tenant: customers write several messages each
SENDERS = 16
SECRET = "chaos-secret"
REPORT = ROOT / "artifacts" / "chaos.json"
# About a minute per thousand messages on two cores, and room for a slow machine.
pytestmark = pytest.mark.timeout(max(300, MESSAGES * 0.25))
TEXTS = (
    "I was charged twice for my order, please refund one of them",
    "Hola, mi pedido no ha llegado y ya pasaron dos semanas",
    "My account is locked and I cannot log in, can someone help?",
    "Quiero cancelar mi suscripción, no me sirve el servicio",
    "The invoice you sent has the wrong address on it",
)


@dataclass
class Dependencies:
    """Kafka and PostgreSQL of this test alone, so that it may restart them."""

    state: Path
    bootstrap: str = ""
    database_url: str = ""

    def run(self, script: str, action: str) -> None:
        done = subprocess.run(
            ["bash", str(ROOT / "deploy" / "local" / script), action, str(self.state / script)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, f"{script} {action} failed:\n{done.stderr}"

    async def restart(self, script: str, down_s: float) -> None:
        await asyncio.to_thread(self.run, script, "stop")
        await asyncio.sleep(down_s)
        await asyncio.to_thread(self.run, script, "restart")


@pytest.fixture
def dependencies() -> Iterator[Dependencies]:
    # Not under pytest's tmp_path: PostgreSQL runs as its own user when tests run as root,
    # and pytest's directories are private to the user.
    with tempfile.TemporaryDirectory(prefix="omniroute-chaos.") as state:
        Path(state).chmod(0o755)
        deps = Dependencies(Path(state))
        try:
            deps.run("kafka.sh", "start")
            deps.run("postgres.sh", "start")
            deps.bootstrap = (deps.state / "kafka.sh" / "bootstrap").read_text().strip()
            deps.database_url = (deps.state / "postgres.sh" / "url").read_text().strip()
            yield deps
        finally:
            deps.run("kafka.sh", "stop")
            deps.run("postgres.sh", "stop")


@dataclass
class Service:
    """One omniroute service on a fixed port, restarted the way an orchestrator would."""

    command: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    kills: int = 0
    exits: int = 0  # times it exited without being killed; restarted like the kills

    def __post_init__(self) -> None:
        self.process = self._start()
        # Kills run in a worker thread while the supervisor looks on: without the lock,
        # both would start a replacement and the second would find the port taken.
        self.lock = threading.Lock()

    def _start(self) -> OmnirouteProcess:
        return OmnirouteProcess(self.command, self.env, self.log, port=self.port)

    @property
    def base_url(self) -> str:
        return self.process.base_url

    def kill_and_restart(self) -> None:
        with self.lock:
            self.process.kill()
            self.kills += 1
            self.process = self._start()

    def restart_if_exited(self) -> None:
        with self.lock:
            if self.process.process.poll() is not None:
                self.exits += 1
                self.process = self._start()


@dataclass
class Customers:
    """Telegram's side: every update is retried until the channels service answers 200."""

    channels: Service
    accepted: set[tuple[str, str]] = field(default_factory=set)
    retries: int = 0
    sent: int = 0

    def updates(self, rng: random.Random) -> list[tuple[str, dict[str, object]]]:
        updates = []
        for n in range(MESSAGES):
            tenant = TENANTS[n % len(TENANTS)]
            chat = 1000 + rng.randrange(CHATS)
            message = {
                "message_id": 100_000 + n,
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "Chaos"},
                "from": {"id": chat, "is_bot": False, "first_name": "Chaos"},
                "text": f"{rng.choice(TEXTS)} (#{n})",
            }
            updates.append((tenant, {"update_id": n, "message": message}))
        return updates

    async def send(self, updates: list[tuple[str, dict[str, object]]]) -> None:
        pending: asyncio.Queue[tuple[str, dict[str, object]]] = asyncio.Queue()
        for update in updates:
            pending.put_nowait(update)
        async with httpx.AsyncClient(timeout=10) as client:
            await asyncio.gather(*(self._sender(client, pending) for _ in range(SENDERS)))

    async def _sender(
        self, client: httpx.AsyncClient, pending: asyncio.Queue[tuple[str, dict[str, object]]]
    ) -> None:
        while not pending.empty():
            tenant, update = pending.get_nowait()
            while not await self._post(client, tenant, update):
                self.retries += 1
                await asyncio.sleep(0.3)
            message = update["message"]
            assert isinstance(message, dict)
            # Telegram numbers messages per chat: the provider's id is chat:message.
            self.accepted.add((tenant, f"{message['chat']['id']}:{message['message_id']}"))
            self.sent += 1
            await asyncio.sleep(0.05)  # a steady flow per sender, not one burst

    async def _post(self, client: httpx.AsyncClient, tenant: str, update: object) -> bool:
        try:
            answer = await client.post(
                f"{self.channels.base_url}/webhooks/telegram/{tenant}-bot",
                json=update,
                headers={"x-telegram-bot-api-secret-token": SECRET},
            )
        except httpx.TransportError:
            return False
        return answer.status_code == 200


@dataclass
class Agent:
    """An agent at the desk who takes every offer but declines about one in ten."""

    tenant: str
    agent_id: str
    key: str
    agents: Service
    rng: random.Random
    replied: set[str] = field(default_factory=set)
    posted: Counter[str] = field(default_factory=Counter)  # replies asked for, per conversation

    async def work(self, stop: asyncio.Event) -> None:
        headers = {"authorization": f"Bearer {self.key}"}
        last_status = 0.0
        async with httpx.AsyncClient(timeout=10, headers=headers) as api:
            while not stop.is_set():
                try:
                    if time.monotonic() - last_status > 3:  # set away after missed offers
                        await api.put(
                            self._url("/v1/agents/me/status"), json={"status": "available"}
                        )
                        last_status = time.monotonic()
                    await self._answer_offers(api)
                    await self._finish_conversations(api)
                except (httpx.TransportError, json.JSONDecodeError, KeyError):
                    await asyncio.sleep(0.3)  # the agents service is down: try again

    def _url(self, path: str) -> str:
        return self.agents.base_url + path

    async def _answer_offers(self, api: httpx.AsyncClient) -> None:
        offers = (await api.get(self._url("/v1/agents/me/offers"), params={"wait": 1})).json()
        for offer in offers["items"]:
            verb = "decline" if self.rng.random() < 0.1 else "accept"
            await api.post(self._url(f"/v1/offers/{offer['id']}/{verb}"))

    async def _finish_conversations(self, api: httpx.AsyncClient) -> None:
        mine = (await api.get(self._url("/v1/agents/me/conversations"))).json()
        for conversation in mine["items"]:
            cid = conversation["id"]
            if cid not in self.replied:
                reply = {"text": f"Looking into it ({cid})"}
                self.posted[cid] += 1  # a 503 or a timeout may hide a reply accepted
                answer = await api.post(self._url(f"/v1/conversations/{cid}/messages"), json=reply)
                if answer.status_code == 202:
                    self.replied.add(cid)
            await api.post(self._url(f"/v1/conversations/{cid}/close"), json={})


@dataclass
class Desk:
    channels: Service
    router: Service
    agents: Service
    telegram: FakeProvider
    admins: dict[str, str]
    team: list[Agent]

    @property
    def services(self) -> tuple[Service, ...]:
        return (self.channels, self.router, self.agents)


@pytest.fixture
async def desk(dependencies: Dependencies, tmp_path: Path) -> AsyncIterator[Desk]:
    env = {
        "OMNIROUTE_BUS": "kafka",
        "OMNIROUTE_KAFKA_BOOTSTRAP": dependencies.bootstrap,
        "OMNIROUTE_DATABASE_URL": dependencies.database_url,
        "OMNIROUTE_DATA_DIR": str(tmp_path),
    }
    await asyncio.to_thread(migrate, dependencies.database_url)
    admins = {
        tenant: run_cli(["keys", "create", "--role", "admin", "--tenant", tenant], env).split()[-1]
        for tenant in TENANTS
    }
    async with fake_provider() as telegram:
        bots = {
            f"{tenant}-bot": {"tenant": tenant, "secret_token": SECRET, "bot_token": f"1:{tenant}"}
            for tenant in TENANTS
        }
        channels_env = {
            **env,
            "OMNIROUTE_TELEGRAM_BOTS": json.dumps(bots),
            "OMNIROUTE_TELEGRAM_API_BASE": telegram.base_url,
        }
        channels = Service("channels", channels_env, tmp_path / "channels.log")
        router = Service("router", env, tmp_path / "router.log")
        agents = Service("agents", env, tmp_path / "agents.log")
        desk = Desk(channels, router, agents, telegram, admins, [])
        try:
            for service in desk.services:
                await asyncio.to_thread(service.process.wait_until_ready)
            rng = random.Random(20261124)
            for tenant in TENANTS:
                await configure(desk, tenant)
                for n in range(AGENTS):
                    agent_id = f"{tenant}-{n}"
                    key = run_cli(
                        [
                            "keys",
                            "create",
                            "--role",
                            "agent",
                            "--agent",
                            agent_id,
                            "--tenant",
                            tenant,
                        ],
                        env,
                    ).split()[-1]
                    desk.team.append(Agent(tenant, agent_id, key, agents, rng))
            yield desk
        finally:
            for service in desk.services:
                service.process.kill()


async def configure(desk: Desk, tenant: str) -> None:
    """A queue, the agents and the rules, through the API as the tenant's admin would."""
    headers = {"authorization": f"Bearer {desk.admins[tenant]}"}
    async with httpx.AsyncClient(base_url=desk.agents.base_url, headers=headers) as api:
        queue = {"queue_id": "general", "name": "General", "offer_timeout_s": 15}
        assert (await api.post("/v1/queues", json=queue)).status_code == 201
        for n in range(AGENTS):
            agent = {
                "agent_id": f"{tenant}-{n}",
                "name": f"Agent {n}",
                "capacity": {"telegram": CAPACITY},
            }
            assert (await api.post("/v1/agents", json=agent)).status_code == 201
        rules = {"default_queue_id": "general"}
        assert (await api.put("/v1/routing/rules", json=rules)).is_success


@dataclass
class Chaos:
    """A random service killed every few seconds; Kafka and then PostgreSQL restarted once."""

    desk: Desk
    dependencies: Dependencies
    rng: random.Random
    kafka_restarts: int = 0
    postgres_restarts: int = 0

    async def run(self, customers: Customers, sending: asyncio.Task[None]) -> None:
        while not sending.done():
            await asyncio.sleep(self.rng.uniform(1.5, 4))
            progress = customers.sent / MESSAGES
            if progress > 1 / 3 and not self.kafka_restarts:
                await self.dependencies.restart("kafka.sh", down_s=3)
                self.kafka_restarts += 1
            elif progress > 2 / 3 and not self.postgres_restarts:
                await self.dependencies.restart("postgres.sh", down_s=3)
                self.postgres_restarts += 1
            else:
                await asyncio.to_thread(self.rng.choice(self.desk.services).kill_and_restart)

    async def supervise(self, stop: asyncio.Event) -> None:
        """Like Kubernetes: a service that exited on its own is started again."""
        while not stop.is_set():
            for service in self.desk.services:
                service.restart_if_exited()
            await asyncio.sleep(0.5)


async def test_nothing_is_lost_while_services_kafka_and_postgres_fail(
    desk: Desk, dependencies: Dependencies
) -> None:
    rng = random.Random(7)
    customers = Customers(desk.channels)
    chaos = Chaos(desk, dependencies, rng)
    working, supervising = asyncio.Event(), asyncio.Event()
    started = time.monotonic()
    workers = [asyncio.create_task(agent.work(working)) for agent in desk.team]
    supervisor = asyncio.create_task(chaos.supervise(supervising))
    sending = asyncio.create_task(customers.send(customers.updates(rng)))
    await chaos.run(customers, sending)
    await sending
    sent_s = time.monotonic() - started
    await until_quiet(desk)
    drained_s = time.monotonic() - started
    working.set()
    await asyncio.gather(*workers)
    supervising.set()
    await supervisor
    replies = {cid for agent in desk.team for cid in agent.replied}
    posted = sum((agent.posted for agent in desk.team), Counter[str]())
    await until_delivered(desk.telegram, replies)
    for service in desk.services:
        await asyncio.to_thread(service.process.stop)

    bus = KafkaBus(dependencies.bootstrap)
    await bus.start()
    try:
        routing = await read_routing(bus)
        parked = await read_routing(bus, ev.DEAD_LETTER)
    finally:
        await bus.close()
    counts = outcome(routing, customers, replies, posted, desk.telegram)
    report: dict[str, object] = dict(counts)
    report.update(
        messages=MESSAGES,
        tenants=len(TENANTS),
        agents=len(desk.team),
        kills={service.command: service.kills for service in desk.services},
        exited_on_their_own={service.command: service.exits for service in desk.services},
        kafka_restarts=chaos.kafka_restarts,
        postgres_restarts=chaos.postgres_restarts,
        webhook_retries=customers.retries,
        sending_s=round(sent_s, 1),
        drained_s=round(drained_s, 1),
        # A record parked while a database or broker was away would be missing for good.
        dead_letters=[p.data.reason for p in parked if isinstance(p.data, ev.DeadLettered)],
    )
    print("\nchaos test:", json.dumps(report, indent=2))
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")

    assert chaos.kafka_restarts == 1 and chaos.postgres_restarts == 1
    assert sum(service.kills for service in desk.services) >= 3
    assert counts["messages_accepted"] == MESSAGES
    assert counts["messages_lost"] == 0 and counts["messages_appended_twice"] == 0
    assert counts["conversations_assigned_twice"] == 0
    assert counts["max_agent_load"] <= CAPACITY
    assert counts["offers_unresolved"] == 0 and counts["offers_resolved_twice"] == 0
    assert counts["conversations_not_closed"] == 0
    assert counts["replies_lost"] == 0 and counts["replies_delivered_twice"] == 0
    assert report["dead_letters"] == []


async def until_quiet(desk: Desk) -> None:
    """Until no tenant has a conversation that is not closed, for three checks in a row."""
    deadline = time.monotonic() + max(300, MESSAGES / 5)
    quiet = 0
    async with httpx.AsyncClient(timeout=10) as api:
        while quiet < 3:
            assert time.monotonic() < deadline, "the desk never finished its conversations"
            open_ones = 0
            try:
                for key in desk.admins.values():
                    for state in ("waiting", "offered", "assigned"):
                        page = await api.get(
                            f"{desk.agents.base_url}/v1/conversations",
                            params={"state": state, "limit": 1},
                            headers={"authorization": f"Bearer {key}"},
                        )
                        open_ones += len(page.json()["items"])
            except httpx.TransportError:
                open_ones = 1
            quiet = quiet + 1 if open_ones == 0 else 0
            await asyncio.sleep(1)


async def until_delivered(telegram: FakeProvider, replies: set[str], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    # The fake provider only records what it gets; there is no event to wait on.
    while time.monotonic() < deadline and not replies <= _delivered(telegram).keys():  # noqa: ASYNC110
        await asyncio.sleep(0.5)


def _delivered(telegram: FakeProvider) -> Counter[str]:
    """Replies the customers got, per conversation."""
    return Counter(call["text"].rsplit("(", 1)[-1].rstrip(")") for _, call in telegram.calls)


def outcome(
    routing: list[ev.Envelope],
    customers: Customers,
    replies: set[str],
    posted: Counter[str],
    telegram: FakeProvider,
) -> dict[str, int]:
    """The counts the test asserts, from cc.routing.v1 replayed per tenant.

    Events are keyed by conversation or agent, so partitions interleave them; the events
    of one router batch share their time, and agents' loads are checked after each batch.
    """
    unique = {envelope.id: envelope for envelope in routing}  # a relay may republish
    appended: Counter[tuple[str, str]] = Counter()
    assigned: Counter[str] = Counter()
    offers: Counter[str] = Counter()
    opened: set[str] = set()
    closed: set[str] = set()
    holder: dict[str, str] = {}
    load: Counter[str] = Counter()
    max_load = 0
    batches: dict[tuple[str, datetime], list[ev.Payload]] = defaultdict(list)
    for envelope in unique.values():
        batches[(envelope.tenant, envelope.at)].append(envelope.data)
    for (tenant, _), batch in sorted(batches.items()):
        for data in batch:
            match data:
                case ev.MessageAppended(sender=ev.Sender.CUSTOMER, provider_message_id=pid):
                    appended[(tenant, str(pid))] += 1
                case ev.ConversationOpened(conversation_id=cid):
                    opened.add(cid)
                case ev.OfferCreated(offer_id=offer_id, agent_id=agent_id):
                    offers[offer_id] += 0
                    load[agent_id] += 1
                case (
                    ev.OfferExpired(offer_id=offer_id, agent_id=agent_id)
                    | ev.OfferDeclined(offer_id=offer_id, agent_id=agent_id)
                    | ev.OfferWithdrawn(offer_id=offer_id, agent_id=agent_id)
                ):
                    offers[offer_id] += 1
                    load[agent_id] -= 1
                case ev.ConversationAssigned(
                    conversation_id=cid, agent_id=agent_id, offer_id=offer
                ):
                    assigned[cid] += 1
                    holder[cid] = agent_id
                    if offer is None:
                        load[agent_id] += 1
                    else:
                        offers[offer] += 1
                case ev.ConversationClosed(conversation_id=cid):
                    closed.add(cid)
                    if cid in holder:
                        load[holder.pop(cid)] -= 1
        max_load = max([max_load, *load.values()])
    delivered = _delivered(telegram)
    return {
        "messages_accepted": len(customers.accepted),
        "messages_lost": len(customers.accepted - set(appended)),
        "messages_appended_twice": sum(1 for n in appended.values() if n > 1),
        "conversations_opened": len(opened),
        "conversations_assigned": len(assigned),
        "conversations_assigned_twice": sum(1 for n in assigned.values() if n > 1),
        "conversations_not_closed": len(opened - closed),
        "max_agent_load": max_load,
        "offers_made": len(offers),
        "offers_unresolved": sum(1 for n in offers.values() if n == 0),
        "offers_resolved_twice": sum(1 for n in offers.values() if n > 1),
        "replies_accepted": len(replies),
        "replies_lost": len(replies - delivered.keys()),
        "replies_delivered_twice": sum(1 for cid, n in delivered.items() if n > posted[cid]),
        "routing_events": len(unique),
        "routing_events_relayed_twice": len(routing) - len(unique),
    }
