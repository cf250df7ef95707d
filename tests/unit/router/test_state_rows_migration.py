"""Upgrading a database whose router states were stored whole (before revision 0012)
splits them into the tenant's part and rows, and the router gets the same state back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from pydantic import TypeAdapter

from services.router import snapshot, store
from services.router.core.state import Conversation
from shared.db import create_engine, session_factory
from shared.db.migrate import upgrade_async
from tests.unit.router.test_snapshot import busy_desk


async def test_a_state_stored_whole_is_split_into_rows(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    await upgrade_async(url, "0011")
    desk = busy_desk()
    state = desk.state
    # The format of revision 0011: one JSON document with everything in it.
    whole = json.loads(snapshot.dump_tenant(state))
    del whole["opened"]
    whole["conversations"] = [
        TypeAdapter(Conversation).dump_python(c, mode="json") for c in state.conversations.values()
    ]
    whole["last_agent"] = TypeAdapter(dict[str, tuple[str, datetime]]).dump_python(
        state.last_agent, mode="json"
    )
    whole["contacts"] = TypeAdapter(dict[str, list[datetime]]).dump_python(
        state.contacts, mode="json"
    )
    with sa.create_engine(url.replace("+aiosqlite", "")).begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO router_tenants (tenant, version, state, updated_at)"
                " VALUES ('acme', 7, :state, :now)"
            ),
            {"state": json.dumps(whole).encode(), "now": datetime.now(UTC)},
        )

    await upgrade_async(url)

    engine = create_engine(url)
    async with session_factory(engine)() as session:
        restored, version = await store.load(session, "acme")
    await engine.dispose()
    assert version == 7
    assert restored.conversations == state.conversations
    assert restored.last_agent == state.last_agent
    assert restored.contacts == state.contacts
    assert restored.agents == state.agents
    assert restored.opened == len(state.conversations)
    for queue_id, queue in state.queues.items():
        assert restored.queues[queue_id].waiting() == queue.waiting()
