"""A conversation shows the customer's earlier ones, and the agent serving the customer
may read them back (not act on them)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from services.agents.auth import Role
from services.agents.readmodel import apply
from shared import events as ev
from shared.db.migrate import upgrade_async
from tests.unit.agents.conftest import Desk

START = ev.utcnow() - timedelta(days=3)


async def conversation(
    desk: Desk, cid: str, customer: str, agent: str, *, days: int, closed: bool
) -> None:
    """A chat of `customer` opened `days` after START and answered by `agent`."""
    at = START + timedelta(days=days)
    events: list[ev.Payload] = [
        ev.ConversationOpened(
            conversation_id=cid,
            channel=ev.Channel.WHATSAPP,
            provider="meta",
            thread_key=customer,
            customer=ev.Customer(id=customer),
        ),
        ev.ConversationQueued(conversation_id=cid, queue_id="general"),
        ev.ConversationAssigned(conversation_id=cid, agent_id=agent, queue_id="general"),
        ev.MessageAppended(
            conversation_id=cid, message_id=f"m-{cid}", sender=ev.Sender.CUSTOMER, text="hi"
        ),
    ]
    if closed:
        events.append(ev.ConversationClosed(conversation_id=cid, disposition="resolved"))
    async with desk.runtime.sessions() as session, session.begin():
        await apply(session, [ev.Envelope.wrap(e, tenant="acme", key=cid, at=at) for e in events])


async def test_the_customers_earlier_conversations_come_with_the_conversation(desk: Desk) -> None:
    await conversation(desk, "first", "+34600111222", "ben", days=0, closed=True)
    await conversation(desk, "someone-else", "+34600999999", "ben", days=1, closed=True)
    await conversation(desk, "second", "+34600111222", "chen", days=1, closed=True)
    await conversation(desk, "now", "+34600111222", "ana", days=2, closed=False)
    ana = desk.keys[Role.AGENT]

    now = (await desk.client.get("/v1/conversations/now", headers=ana)).json()
    second = await desk.client.get("/v1/conversations/second", headers=ana)
    messages = await desk.client.get("/v1/conversations/first/messages", headers=ana)
    stranger = await desk.client.get("/v1/conversations/someone-else", headers=ana)
    reply = await desk.client.post(
        "/v1/conversations/second/messages", json={"text": "hello"}, headers=ana
    )

    assert [(e["id"], e["agent_id"], e["disposition"]) for e in now["earlier"]] == [
        ("second", "chen", "resolved"),
        ("first", "ben", "resolved"),
    ]
    assert second.status_code == 200 and second.json()["earlier"][0]["id"] == "first"
    assert [m["text"] for m in messages.json()["items"]] == ["hi"]
    assert stranger.status_code == 403  # not the customer she is serving
    assert reply.status_code == 403  # to read back, not to act on


async def test_once_the_agent_is_done_with_the_customer_their_history_closes(desk: Desk) -> None:
    await conversation(desk, "first", "ana@example.com", "ben", days=0, closed=True)
    await conversation(desk, "now", "ana@example.com", "ana", days=1, closed=True)

    earlier = await desk.client.get("/v1/conversations/first", headers=desk.keys[Role.AGENT])

    assert earlier.status_code == 403


async def test_conversations_stored_before_the_upgrade_know_their_customer(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    await upgrade_async(url, "0015")
    with sa.create_engine(url.replace("+aiosqlite", "")).begin() as connection:
        for n in range(3):
            connection.execute(
                sa.text(
                    "INSERT INTO rm_conversations (conversation_id, tenant, state, channel,"
                    " thread, customer, opened_at, updated_at, priority, bot_handled)"
                    " VALUES (:cid, 'acme', 'closed', 'email', :cid, :customer, :at, :at, 0, 0)"
                ),
                {
                    "cid": f"c{n}",
                    "customer": json.dumps({"id": f"customer{n}@example.com", "name": None}),
                    "at": START,
                },
            )

    await upgrade_async(url)

    with sa.create_engine(url.replace("+aiosqlite", "")).begin() as connection:
        rows = connection.execute(
            sa.text("SELECT conversation_id, customer_id FROM rm_conversations ORDER BY 1")
        ).all()
    assert [tuple(row) for row in rows] == [(f"c{n}", f"customer{n}@example.com") for n in range(3)]
