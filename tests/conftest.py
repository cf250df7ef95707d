"""Fixtures for the real dependencies (Apache Kafka, PostgreSQL) and both buses.

`make test` starts Kafka and PostgreSQL and sets OMNIROUTE_TEST_KAFKA and
OMNIROUTE_TEST_DATABASE_URL. A test that needs one of them and cannot reach it
fails with the reason; it is never skipped.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from shared.bus.base import Bus
from shared.bus.kafka import KafkaBus
from shared.bus.local import LocalBus
from tests.databases import fresh_database

BusFactory = Callable[[], Awaitable[Bus]]


def _require(variable: str, what: str) -> str:
    value = os.environ.get(variable)
    if not value:
        pytest.fail(
            f"{what} is needed: run `make test`, which starts it, or set {variable}",
            pytrace=False,
        )
    return value


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    bootstrap = _require("OMNIROUTE_TEST_KAFKA", "Apache Kafka")
    host, port = bootstrap.split(",")[0].rsplit(":", 1)
    if not _reachable(host, int(port)):
        pytest.fail(f"Apache Kafka at {bootstrap} does not answer", pytrace=False)
    return bootstrap


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = _require("OMNIROUTE_TEST_DATABASE_URL", "PostgreSQL")
    parsed = make_url(url)
    if not _reachable(parsed.host or "127.0.0.1", parsed.port or 5432):
        pytest.fail(f"PostgreSQL at {parsed.host}:{parsed.port} does not answer", pytrace=False)
    return url


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def fresh_postgres_url(postgres_url: str) -> AsyncIterator[str]:
    """A new, empty database on the test PostgreSQL server, dropped afterwards."""
    async with fresh_database(postgres_url) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same tests on the embedded SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'omniroute.sqlite3'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture(params=["local", "kafka"])
async def make_bus(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BusFactory]:
    """Open buses on one log: a second call is another process's view, or a restart."""
    opened: list[Bus] = []
    bootstrap = request.getfixturevalue("kafka_bootstrap") if request.param == "kafka" else ""
    prefix = unique("test") + "."

    async def factory() -> Bus:
        bus: Bus
        if request.param == "local":
            bus = LocalBus(tmp_path / "bus.sqlite3", max_record_bytes=64 * 1024)
        else:
            bus = KafkaBus(
                bootstrap,
                # Each test has its own topics, so tests never see each other's records.
                topic_prefix=prefix,
                partitions=3,
                max_record_bytes=64 * 1024,
                session_timeout_ms=6000,
            )
        await bus.start()
        opened.append(bus)
        return bus

    yield factory
    for bus in opened:
        await bus.close()
