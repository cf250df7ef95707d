"""While PostgreSQL is away, consumers wait for it: nothing they consume is parked or
lost. Before, the desk's read model tried each event three times in 0.6 s, then parked
it in the dead letters: a restart of the database left conversations missing from the
desk for good. And the API says 503 with Retry-After, not 500."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from services.agents.app import create_app
from services.agents.auth import Role, new_key, store_key
from services.agents.readmodel import project
from shared import events as ev
from shared.bus.local import LocalBus
from shared.config import Settings
from shared.db.migrate import upgrade_async
from shared.db.models import ReadConversation
from shared.http import PROBLEM_JSON
from shared.runtime import Runtime, bootstrap
from tests.asgi import serve
from tests.conftest import BusFactory
from tests.integration.test_bus_contract import nothing_more
from tests.tcp_proxy import Outage, outage


def opened(n: int) -> ev.Envelope:
    return ev.Envelope.wrap(
        ev.ConversationOpened(
            conversation_id=f"c{n}",
            channel=ev.Channel.CHAT,
            provider="webchat",
            thread_key=f"session-{n}",
            customer=ev.Customer(id=f"visitor-{n}"),
        ),
        tenant="acme",
        key=f"c{n}",
    )


async def conversations(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(ReadConversation.conversation_id)))


async def until_stored(runtime: Runtime, expected: list[str], timeout_s: float = 30) -> None:
    async with asyncio.timeout(timeout_s):
        # Read from the database itself, as a second process would: no event to wait on.
        while sorted(await conversations(runtime)) != expected:  # noqa: ASYNC110
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def behind_a_proxy(url: str) -> AsyncIterator[tuple[Outage, str]]:
    """The database, migrated, and its URL through a proxy the test cuts off."""
    await upgrade_async(url)
    server = make_url(url)
    async with outage(server.host or "127.0.0.1", server.port or 5432) as database:
        proxied = server.set(host="127.0.0.1", port=database.listening_port)
        yield database, proxied.render_as_string(hide_password=False)


async def test_the_desk_read_model_waits_for_the_database_and_loses_nothing(
    make_bus: BusFactory, fresh_postgres_url: str
) -> None:
    bus = await make_bus()
    async with behind_a_proxy(fresh_postgres_url) as (database, through_proxy):
        runtime = bootstrap(Settings(database_url=through_proxy), bus=bus)
        direct = bootstrap(Settings(database_url=fresh_postgres_url), bus=bus)
        worker = asyncio.create_task(project(runtime))
        await bus.publish(ev.ROUTING, "acme", opened(1))
        await until_stored(direct, ["c1"])

        await database.cut()
        for n in (2, 3):
            await bus.publish(ev.ROUTING, "acme", opened(n))
        await asyncio.sleep(3)  # five times as long as the retries that parked it
        await database.restore()

        await until_stored(direct, ["c1", "c2", "c3"])
        runtime.stop.set()
        await worker
        async with bus.subscribe([ev.DEAD_LETTER], "test-dead") as subscription:
            await nothing_more(subscription)
        await runtime.close_database()
        await direct.close_database()


# The connections the cut aborted under the pool are closed when they are collected;
# asyncpg warns of each, and pytest makes that warning an error.
@pytest.mark.filterwarnings("ignore:unclosed connection:ResourceWarning")
async def test_the_api_answers_503_with_retry_after_while_the_database_is_away(
    tmp_path: Path, fresh_postgres_url: str
) -> None:
    async with behind_a_proxy(fresh_postgres_url) as (database, through_proxy):
        runtime = bootstrap(
            Settings(database_url=through_proxy),
            bus=LocalBus(tmp_path / "bus.sqlite3"),  # the app starts it
        )
        key = new_key()
        await store_key(runtime.sessions, key=key, tenant="acme", role=Role.SUPERVISOR)
        supervisor = {"authorization": f"Bearer {key}"}
        async with serve(create_app(runtime)) as client:
            await runtime.connected.wait()
            before = await client.get("/v1/agents", headers=supervisor)
            await database.cut()
            away = await client.get("/v1/agents", headers=supervisor)
            await database.restore()
            back = await client.get("/v1/agents", headers=supervisor)

    assert before.status_code == back.status_code == 200
    assert away.status_code == 503, away.text
    assert away.headers["content-type"] == PROBLEM_JSON
    assert away.headers["retry-after"] == "2"
    assert away.json()["detail"] == "the database or the event log is not reachable"
