"""An agents service on LocalBus and SQLite, with a key of every role for tenant acme."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from services.agents.app import create_app
from services.agents.auth import Role, new_key, store_key
from shared import events as ev
from shared.bus.local import LocalBus
from shared.config import Settings
from shared.db.migrate import upgrade_async
from shared.db.outbox import relay_once
from shared.runtime import Runtime, bootstrap
from tests.asgi import serve


@dataclass
class Desk:
    client: httpx.AsyncClient
    runtime: Runtime
    keys: dict[Role, dict[str, str]]

    async def published(self) -> list[ev.Envelope]:
        """Configuration events on the bus, each once (consumers deduplicate by id: the
        service's relay and this one may both publish a row)."""
        while await relay_once(self.runtime.sessions, self.runtime.bus, limit=100):
            pass
        async with self.runtime.bus.subscribe([ev.CONFIG], "inspector") as subscription:
            records = await subscription.fetch(timeout_s=0)
        events = [ev.decode(r.value, topic=ev.CONFIG) for r in records]
        return list({event.id: event for event in events}.values())


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    settings = Settings(data_dir=tmp_path)
    await upgrade_async(settings.effective_database_url)
    runtime = bootstrap(settings, bus=LocalBus(tmp_path / "bus.sqlite3"))
    keys = {}
    for role in Role:
        key = new_key()
        await store_key(runtime.sessions, key=key, tenant="acme", role=role, agent_id="ana")
        keys[role] = {"authorization": f"Bearer {key}"}
    async with serve(create_app(runtime)) as client:
        await runtime.connected.wait()
        yield Desk(client, runtime, keys)
