"""Webhook-to-ack throughput of the channels service, against a bare FastAPI endpoint.

    bash deploy/local/with-deps.sh .venv/bin/python -m bench.webhook_ack [--requests 2000]

Each server runs under uvicorn on 127.0.0.1 and gets the same signed Telegram
updates from 32 concurrent clients in another process, in this order and in
one run:

- baseline: a FastAPI endpoint that reads the body and answers 200;
- channels on LocalBus + SQLite (the embedded mode);
- channels on Kafka + PostgreSQL (OMNIROUTE_TEST_KAFKA, OMNIROUTE_TEST_DATABASE_URL).

A channels answer is an ack: the secret checked, the message parsed, its id stored,
the record acknowledged by the bus. Prints requests per second and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request

from bench.telegram import BOT, SECRET, customer_writes
from services.channels.app import create_app
from shared.bus.base import Bus
from shared.bus.kafka import KafkaBus
from shared.bus.local import LocalBus
from shared.config import Settings
from shared.db.migrate import upgrade_async
from shared.runtime import bootstrap
from tests.processes import free_port

CONCURRENCY = 32


def baseline_app() -> FastAPI:
    app = FastAPI()

    @app.post("/webhooks/telegram/{bot_id}")
    async def ok(bot_id: str, request: Request) -> dict[str, int]:
        await request.body()
        return {"accepted": 1}

    return app


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def hammer(base_url: str, requests: int) -> float:
    counter = iter(range(requests))

    async def client_loop(client: httpx.AsyncClient) -> None:
        for n in counter:
            await customer_writes(client, base_url, n, 1000 + n % 500, "Hi, where is my order?")

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(CONCURRENCY)))
        return requests / (time.perf_counter() - started)


async def load(base_url: str, requests: int) -> float:
    """Requests per second, from a client in its own process so it does not share the
    server's event loop."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.webhook_ack",
        "--client",
        base_url,
        "--requests",
        str(requests),
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await process.communicate()
    return float(output.decode().strip().splitlines()[-1])


async def channels_rate(settings: Settings, bus: Bus, requests: int) -> float:
    await upgrade_async(settings.effective_database_url)
    runtime = bootstrap(settings, bus=bus)
    async with served(create_app(runtime)) as base_url:
        await runtime.connected.wait()
        return await load(base_url, requests)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--client", metavar="URL", help="only send the load to URL")
    args = parser.parse_args()
    if args.client:
        print(await hammer(args.client, args.requests))
        return
    bots = {BOT: {"tenant": "bench", "secret_token": SECRET}}
    async with served(baseline_app()) as base_url:
        baseline = await load(base_url, args.requests)
    with tempfile.TemporaryDirectory() as directory:
        local = Settings.model_validate({"data_dir": Path(directory), "telegram_bots": bots})
        embedded = await channels_rate(
            local, LocalBus(Path(directory) / "bus.sqlite3"), args.requests
        )
    production = Settings.model_validate(
        {"database_url": os.environ["OMNIROUTE_TEST_DATABASE_URL"], "telegram_bots": bots}
    )
    kafka = KafkaBus(
        os.environ["OMNIROUTE_TEST_KAFKA"], topic_prefix=f"bench{uuid.uuid4().hex[:6]}."
    )
    on_kafka = await channels_rate(production, kafka, args.requests)
    print(f"bare FastAPI endpoint:         {baseline:>7,.0f} requests/s")
    for name, rate in (("LocalBus + SQLite", embedded), ("Kafka + PostgreSQL", on_kafka)):
        print(f"channels, {name + ':':<20} {rate:>7,.0f} requests/s  ratio {rate / baseline:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
