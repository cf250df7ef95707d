"""The database layer on the embedded SQLite and on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.agents.demo import DEMO_AGENTS, DEMO_QUEUES, ensure_demo_tenant
from shared.bus.local import LocalBus
from shared.db import create_engine, session_factory
from shared.db.migrate import upgrade_async
from shared.db.models import Base, OutboxRecord, Tenant
from shared.db.outbox import relay_once
from shared.db.unit_of_work import UnitOfWork
from shared.events import CONFIG, AgentUpserted, Envelope, QueueUpserted, decode
from tests.integration.test_bus_contract import take


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def count(engine: AsyncEngine, model: type[Tenant] | type[OutboxRecord]) -> int:
    async with session_factory(engine)() as session:
        return (await session.scalar(select(func.count()).select_from(model))) or 0


async def test_the_migrations_build_the_schema_the_models_describe(engine: AsyncEngine) -> None:
    """A column, index or type added to a model without its migration (or the reverse)
    shows here, not on a customer's database."""

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_migrations_create_the_tables_and_running_them_again_changes_nothing(
    database_url: str,
) -> None:
    await upgrade_async(database_url)
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    await engine.dispose()
    assert {"tenants", "outbox", "alembic_version"} <= set(tables)


def queue(queue_id: str) -> Envelope:
    return Envelope.wrap(
        QueueUpserted(queue_id=queue_id, name=queue_id.title()), tenant="acme", key=queue_id
    )


async def test_state_and_its_events_commit_together(engine: AsyncEngine) -> None:
    async with UnitOfWork(session_factory(engine)) as uow:
        uow.session.add(Tenant(id="acme", name="Acme"))
        uow.emit(CONFIG, queue("billing"))
        await uow.commit()

    assert await count(engine, Tenant) == 1
    assert await count(engine, OutboxRecord) == 1


async def test_without_commit_neither_state_nor_events_are_kept(engine: AsyncEngine) -> None:
    async with UnitOfWork(session_factory(engine)) as uow:
        uow.session.add(Tenant(id="acme", name="Acme"))
        uow.emit(CONFIG, queue("billing"))

    with pytest.raises(RuntimeError, match="boom"):
        async with UnitOfWork(session_factory(engine)) as uow:
            uow.session.add(Tenant(id="globex", name="Globex"))
            uow.emit(CONFIG, queue("fraud"))
            raise RuntimeError("boom")

    assert await count(engine, Tenant) == 0
    assert await count(engine, OutboxRecord) == 0


async def test_the_relay_publishes_the_outbox_in_commit_order_and_empties_it(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    sessions = session_factory(engine)
    for queue_id in ("general", "billing", "fraud"):
        async with UnitOfWork(sessions) as uow:
            uow.emit(CONFIG, queue(queue_id))
            await uow.commit()
    bus = LocalBus(tmp_path / "bus.sqlite3")
    await bus.start()

    assert await relay_once(sessions, bus, limit=2) == 2
    assert await relay_once(sessions, bus, limit=2) == 1
    assert await relay_once(sessions, bus, limit=2) == 0

    async with bus.subscribe([CONFIG], "reader") as subscription:
        records = await take(subscription, 3)
    await bus.close()
    published = [decode(record.value, topic=CONFIG).data for record in records]
    assert [q.queue_id for q in published if isinstance(q, QueueUpserted)] == [
        "general",
        "billing",
        "fraud",
    ]
    assert await count(engine, OutboxRecord) == 0


async def test_the_demo_tenant_is_created_once_with_its_queues_and_agents(
    engine: AsyncEngine,
) -> None:
    sessions = session_factory(engine)
    assert await ensure_demo_tenant(sessions, "demo") is True
    assert await ensure_demo_tenant(sessions, "demo") is False

    async with sessions() as session:
        rows = (await session.scalars(select(OutboxRecord).order_by(OutboxRecord.id))).all()
    config = [decode(row.value, topic=CONFIG) for row in rows]
    assert {e.tenant for e in config} == {"demo"}
    assert [e.data for e in config if isinstance(e.data, QueueUpserted)] == list(DEMO_QUEUES)
    assert [e.data for e in config if isinstance(e.data, AgentUpserted)] == list(DEMO_AGENTS)
    assert config[-1].type == "RoutingRulesChanged"
