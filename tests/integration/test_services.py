"""Each service as its own process on the real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.router.service import create_app as router_app
from shared.bus.kafka import KafkaBus
from shared.config import Settings
from shared.events import DEAD_LETTER, INBOUND, DeadLettered, decode
from shared.http import PROBLEM_JSON
from shared.runtime import bootstrap
from tests.asgi import serve
from tests.conftest import unique
from tests.integration.test_bus_contract import take
from tests.processes import OmnirouteProcess, free_port, migrate, run_cli


@pytest.fixture
def service_env(kafka_bootstrap: str, fresh_postgres_url: str) -> dict[str, str]:
    migrate(fresh_postgres_url)
    return {
        "OMNIROUTE_BUS": "kafka",
        "OMNIROUTE_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "OMNIROUTE_KAFKA_TOPIC_PREFIX": unique("svc") + ".",
        "OMNIROUTE_DATABASE_URL": fresh_postgres_url,
    }


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[OmnirouteProcess]]:
    started: list[OmnirouteProcess] = []
    yield started
    for process in started:
        process.kill()


@pytest.mark.parametrize("service", ["channels", "router", "agents"])
def test_a_service_is_ready_on_kafka_and_postgres_and_drains_on_sigterm(
    service: str, service_env: dict[str, str], processes: list[OmnirouteProcess], tmp_path: Path
) -> None:
    process = OmnirouteProcess(service, service_env, tmp_path / f"{service}.log")
    processes.append(process)
    process.wait_until_ready()

    assert process.get("/readyz").json() == {
        "status": "ok",
        "checks": {"bus": "ok", "database": "ok"},
    }
    assert process.get("/healthz").status_code == 200
    assert "omniroute_events_consumed_total" in process.get("/metrics").text
    assert process.stop(signal.SIGTERM) == 0
    assert '"service.stopped"' in process.output()


async def test_the_router_dead_letters_an_invalid_inbound_record(
    service_env: dict[str, str], processes: list[OmnirouteProcess], tmp_path: Path
) -> None:
    router = OmnirouteProcess("router", service_env, tmp_path / "router.log")
    processes.append(router)
    await asyncio.to_thread(router.wait_until_ready)
    bus = KafkaBus(
        service_env["OMNIROUTE_KAFKA_BOOTSTRAP"],
        topic_prefix=service_env["OMNIROUTE_KAFKA_TOPIC_PREFIX"],
    )
    await bus.start()
    try:
        await bus.publish(INBOUND, "acme", b'{"type": "MessageReceived", "tenant": "acme"}')
        async with bus.subscribe([DEAD_LETTER], "inspector") as subscription:
            [record] = await take(subscription, 1)
    finally:
        await bus.close()

    letter = decode(record.value, topic=DEAD_LETTER)
    assert isinstance(letter.data, DeadLettered)
    assert letter.tenant == "acme"
    assert letter.data.reason.startswith("invalid event: ")
    assert "key: Field required" in letter.data.reason
    assert router.stop() == 0


async def test_readyz_is_503_with_the_reason_while_kafka_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(
        bus="kafka",
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
    )
    async with serve(router_app(bootstrap(settings))) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")

    assert ready.status_code == 503
    assert ready.headers["content-type"] == PROBLEM_JSON
    assert ready.json()["checks"] == {
        "bus": "ConnectionError: not connected to the bus yet",
        "database": "ok",
    }


def test_topics_create_makes_the_topics_with_the_configured_partitions(
    kafka_bootstrap: str,
) -> None:
    prefix = unique("topics") + "."
    env = {
        "OMNIROUTE_BUS": "kafka",
        "OMNIROUTE_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "OMNIROUTE_KAFKA_TOPIC_PREFIX": prefix,
        "OMNIROUTE_KAFKA_PARTITIONS": "4",
    }
    first = run_cli(["topics", "create"], env).splitlines()
    again = run_cli(["topics", "create"], {**env, "OMNIROUTE_KAFKA_PARTITIONS": "2"}).splitlines()

    assert f"{prefix}cc.config.v1: 4 partitions, compacted" in first
    assert f"{prefix}cc.inbound.v1: 4 partitions, kept by retention" in first
    assert len(first) == 6
    assert again == first  # existing topics are left as they are
