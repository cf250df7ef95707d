"""End-to-end latency: a customer's message acked by the webhook, to the offer seen by
the agent's long poll.

    bash deploy/local/with-deps.sh .venv/bin/python -m bench.latency [--rates 20 200] [--seconds 10]

Signed Telegram updates, each from a new customer, are sent at a steady rate (20 and
200 a second by default) to omniroute as its users run it, in one run:

- `omniroute run`: one process, LocalBus + SQLite (the embedded mode);
- channels, router and agents as three processes on Kafka + PostgreSQL
  (OMNIROUTE_TEST_KAFKA, OMNIROUTE_TEST_DATABASE_URL).

Kafka and PostgreSQL are long-running servers, and freshly started ones answer slowly
for a while (a first 20 s run at 20 messages/s on a new broker had a p50 of 900 ms, the
second 180 ms, the third 100 ms): the Kafka mode starts with a warm-up run of 20 s at
20 messages/s, printed but not counted.

Twenty-five agents long-poll `GET /v1/agents/me/offers?wait=2`; on seeing offers they
accept them, then poll again. (Polling on while accepting, as the desk page does with
`known`, measured slower in the embedded mode: p50 0.9-1.9 s against 0.3-1.2 s at 20
messages/s, twice the requests at once on one process.) The latency of a message is from
the webhook's 200 to the first answer of a long poll that holds its offer. Prints p50, p95
and p99 in milliseconds per mode, of the messages whose offer was seen within 30 s of
the last send ("offered").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.telegram import BOT, SECRET, customer_writes
from services.agents.auth import new_key
from tests.databases import fresh_database
from tests.processes import OmnirouteProcess, migrate, run_cli

AGENTS = 25  # x 100 conversations each: room for every message of a 10 s run
DEMO = "demo"  # the tenant `omniroute run` creates
# Below uvicorn's 5 s keep-alive: a connection the server is closing is never reused.
KEEPALIVE_S = 2.0
WARM_UP = "(warm-up of Kafka + PostgreSQL)"


@dataclass
class Clock:
    """When each customer's message was acked and when its offer was first seen."""

    acked: dict[str, float] = field(default_factory=dict)  # chat id -> time
    seen: dict[str, float] = field(default_factory=dict)  # conversation id -> time


async def send(base_url: str, rate: float, seconds: float, clock: Clock) -> None:
    async def one(client: httpx.AsyncClient, n: int) -> None:
        chat = 10_000 + n
        text = "I was charged twice for my order, please refund one"
        await customer_writes(client, base_url, n, chat, text)
        clock.acked[str(chat)] = time.monotonic()

    limits = httpx.Limits(max_connections=64, keepalive_expiry=KEEPALIVE_S)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client, asyncio.TaskGroup() as group:
        started = time.monotonic()
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            group.create_task(one(client, n))


async def agent(base_url: str, key: str, clock: Clock, stop: asyncio.Event) -> None:
    headers = {"authorization": f"Bearer {key}"}
    limits = httpx.Limits(keepalive_expiry=KEEPALIVE_S)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=30, limits=limits
    ) as api:
        await api.put("/v1/agents/me/status", json={"status": "available"})
        while not stop.is_set():
            try:
                response = await api.get("/v1/agents/me/offers", params={"wait": 2})
                offers = response.json()["items"]
                now = time.monotonic()
                for offer in offers:
                    clock.seen.setdefault(offer["conversation_id"], now)
                await asyncio.gather(*(api.post(f"/v1/offers/{o['id']}/accept") for o in offers))
            except httpx.TimeoutException:
                continue  # an overloaded desk answers late: poll again, as a desk does


@dataclass(frozen=True)
class System:
    webhooks: str  # base URL of the channels part
    desk: str  # base URL of the agents part
    admin: str  # an admin key of the tenant


async def measure(system: System, rate: float, seconds: float) -> tuple[list[float], int]:
    """Latencies in ms, and how many messages had no offer seen 30 s after the last send."""
    headers = {"authorization": f"Bearer {system.admin}"}
    async with httpx.AsyncClient(base_url=system.desk, headers=headers, timeout=30) as api:
        queue = {"queue_id": "bench", "name": "Bench", "offer_timeout_s": 60}
        (await api.post("/v1/queues", json=queue)).raise_for_status()
        (await api.put("/v1/routing/rules", json={"default_queue_id": "bench"})).raise_for_status()
        keys = []
        for n in range(AGENTS):
            body = {"agent_id": f"bench-{n}", "name": f"Bench {n}", "capacity": {"telegram": 100}}
            (await api.post("/v1/agents", json=body)).raise_for_status()
            key = await api.post("/v1/keys", json={"role": "agent", "agent_id": f"bench-{n}"})
            keys.append(key.raise_for_status().json()["key"])
        clock = Clock()
        stop = asyncio.Event()
        agents = [asyncio.create_task(agent(system.desk, key, clock, stop)) for key in keys]
        await asyncio.sleep(2)  # statuses applied, long polls waiting
        await send(system.webhooks, rate, seconds, clock)
        deadline = time.monotonic() + 30
        # The agents record what they see; the last offers arrive in a moment.
        while len(clock.seen) < len(clock.acked) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*agents)
        threads = await _threads(api)
    latencies = [
        (clock.seen[cid] - clock.acked[chat]) * 1000
        for cid, chat in threads.items()
        if cid in clock.seen and chat in clock.acked
    ]
    return latencies, len(clock.acked) - len(latencies)


async def _threads(api: httpx.AsyncClient) -> dict[str, str]:
    """Conversation id -> the customer's chat id, for every conversation of the run."""
    threads: dict[str, str] = {}
    cursor = None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/conversations", params=params)).json()
        threads |= {c["id"]: c["thread"] for c in page["items"]}
        if not (cursor := page["next"]):
            return threads


@asynccontextmanager
async def embedded(directory: Path) -> AsyncIterator[System]:
    admin = new_key()
    env = {
        "OMNIROUTE_DATA_DIR": str(directory),
        "OMNIROUTE_BOOTSTRAP_ADMIN_KEY": admin,
        "OMNIROUTE_TELEGRAM_BOTS": _bots(DEMO),
        "OMNIROUTE_LOG_LEVEL": "warning",
    }
    process = OmnirouteProcess("run", env, directory / "run.log")
    try:
        await asyncio.to_thread(process.wait_until_ready, 120)
        yield System(process.base_url, process.base_url, admin)
    finally:
        process.kill()


@asynccontextmanager
async def on_kafka(directory: Path) -> AsyncIterator[System]:
    # A database of its own: the router's stored offsets are per topic name without the
    # prefix, so one left by another run on the same server would make it skip records.
    server = os.environ["OMNIROUTE_TEST_DATABASE_URL"]
    async with fresh_database(server) as database_url, _services(directory, database_url) as system:
        yield system


@asynccontextmanager
async def _services(directory: Path, database_url: str) -> AsyncIterator[System]:
    env = {
        "OMNIROUTE_BUS": "kafka",
        "OMNIROUTE_KAFKA_BOOTSTRAP": os.environ["OMNIROUTE_TEST_KAFKA"],
        "OMNIROUTE_KAFKA_TOPIC_PREFIX": f"latency{uuid.uuid4().hex[:6]}.",
        "OMNIROUTE_DATABASE_URL": database_url,
        "OMNIROUTE_DATA_DIR": str(directory),
        "OMNIROUTE_LOG_LEVEL": "warning",
    }
    await asyncio.to_thread(migrate, database_url)
    tenant = "latency"
    command = ["keys", "create", "--role", "admin", "--tenant", tenant]
    admin = (await asyncio.to_thread(run_cli, command, env)).split()[-1]
    channels = OmnirouteProcess(
        "channels", {**env, "OMNIROUTE_TELEGRAM_BOTS": _bots(tenant)}, directory / "channels.log"
    )
    agents = OmnirouteProcess("agents", env, directory / "agents.log")
    services = [channels, OmnirouteProcess("router", env, directory / "router.log"), agents]
    try:
        for service in services:
            await asyncio.to_thread(service.wait_until_ready, 120)
        yield System(channels.base_url, agents.base_url, admin)
    finally:
        for service in services:
            service.kill()


def _bots(tenant: str) -> str:
    return json.dumps({BOT: {"tenant": tenant, "secret_token": SECRET}})


def percentiles(latencies: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rates", type=float, nargs="+", default=[20, 200], help="messages per second"
    )
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    print(
        f"{'mode':<34} {'rate/s':>6} {'messages':>8} {'offered':>7} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    for name, start, warm_up in (
        ("omniroute run (LocalBus + SQLite)", embedded, False),
        ("3 services (Kafka + PostgreSQL)", on_kafka, True),
    ):
        runs = [(WARM_UP, 20.0, 20.0)] if warm_up else []
        for label, rate, seconds in [*runs, *((name, rate, args.seconds) for rate in args.rates)]:
            with tempfile.TemporaryDirectory() as directory:
                async with start(Path(directory)) as system:
                    latencies, late = await measure(system, rate, seconds)
            figures = (
                " ".join(f"{p:>7.0f}" for p in percentiles(latencies))
                if len(latencies) > 1
                else f"{'-':>7} {'-':>7} {'-':>7}"  # no offer seen in time: nothing to rank
            )
            print(
                f"{label:<34} {rate:>6g} {len(latencies) + late:>8} {len(latencies):>7} {figures}",
                flush=True,
            )


if __name__ == "__main__":
    asyncio.run(main())
