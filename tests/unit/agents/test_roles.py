"""Every endpoint of the agents API against every role: 401 without a key, 403 for a
role it is not for, and never 401 or 403 for a role it is for. An agent never reaches
another agent's conversations or offers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute

from services.agents import configuration
from services.agents.app import ROUTERS
from services.agents.auth import Role
from services.agents.readmodel import apply
from shared import events as ev
from shared.db.unit_of_work import UnitOfWork
from tests.unit.agents.conftest import Desk

AGENT, SUPERVISOR, ADMIN, BOT = Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.BOT
EVERYONE = {AGENT, SUPERVISOR, ADMIN}
READERS = {SUPERVISOR, ADMIN}

MATRIX: dict[tuple[str, str], set[Role]] = {
    ("GET", "/v1/me"): EVERYONE,
    ("GET", "/v1/keys"): {ADMIN},
    ("POST", "/v1/keys"): {ADMIN},
    ("DELETE", "/v1/keys/{key_id}"): {ADMIN},
    ("GET", "/v1/agents"): EVERYONE,  # an agent picks whom to transfer to
    ("POST", "/v1/agents"): {ADMIN},
    ("GET", "/v1/agents/{agent_id}"): READERS,
    ("PUT", "/v1/agents/{agent_id}"): {ADMIN},
    ("DELETE", "/v1/agents/{agent_id}"): {ADMIN},
    ("GET", "/v1/queues"): EVERYONE,
    ("POST", "/v1/queues"): {ADMIN},
    ("GET", "/v1/queues/{queue_id}"): EVERYONE,
    ("GET", "/v1/queues/{queue_id}/history"): EVERYONE,
    ("PUT", "/v1/queues/{queue_id}"): {ADMIN},
    ("GET", "/v1/bot/faq"): READERS,
    ("POST", "/v1/bot/faq"): {ADMIN},
    ("GET", "/v1/bot/faq/{faq_id}"): READERS,
    ("PUT", "/v1/bot/faq/{faq_id}"): {ADMIN},
    ("DELETE", "/v1/bot/faq/{faq_id}"): {ADMIN},
    ("PUT", "/v1/bot/webhook"): {ADMIN},
    ("GET", "/v1/bot/webhook"): {ADMIN},
    ("DELETE", "/v1/bot/webhook"): {ADMIN},
    ("POST", "/v1/bot/conversations/{conversation_id}/reply"): {BOT},
    ("POST", "/v1/bot/conversations/{conversation_id}/escalate"): {BOT},
    ("POST", "/v1/bot/conversations/{conversation_id}/resolve"): {BOT},
    ("GET", "/v1/cx/summary"): READERS,
    ("GET", "/v1/routing/rules"): READERS,
    ("PUT", "/v1/routing/rules"): {ADMIN},
    ("PUT", "/v1/agents/me/status"): {AGENT},
    ("GET", "/v1/agents/me/offers"): {AGENT},
    ("POST", "/v1/offers/{offer_id}/accept"): {AGENT},
    ("POST", "/v1/offers/{offer_id}/decline"): {AGENT},
    ("GET", "/v1/agents/me/conversations"): {AGENT},
    ("GET", "/v1/conversations"): EVERYONE,
    ("GET", "/v1/conversations/{conversation_id}"): EVERYONE,
    ("GET", "/v1/conversations/{conversation_id}/messages"): EVERYONE,
    ("POST", "/v1/conversations/{conversation_id}/messages"): {AGENT},
    ("POST", "/v1/conversations/{conversation_id}/transfer"): EVERYONE,
    ("POST", "/v1/conversations/{conversation_id}/close"): {AGENT},
    ("POST", "/v1/conversations/{conversation_id}/wrap-up/end"): {AGENT},
}
BODIES = {
    "/v1/keys": {"role": "supervisor"},
    "/v1/bot/faq": {"faq_id": "x", "language": "en", "question": "q?", "answer": "a."},
    "/v1/bot/faq/{faq_id}": {"language": "en", "question": "q?", "answer": "a."},
    "/v1/agents/me/status": {"status": "away"},
    "/v1/conversations/{conversation_id}/messages": {"text": "hello"},
    "/v1/conversations/{conversation_id}/transfer": {"queue_id": "general"},
    "/v1/bot/webhook": {"url": "http://127.0.0.1:9/bot", "secret": "0123456789abcdef"},
    "/v1/bot/conversations/{conversation_id}/reply": {"text": "hello"},
}
# Ana's own things; Ben's are what she must not reach.
PARAMS = {
    "faq_id": "en-hours",
    "key_id": "nokey",
    "agent_id": "ana",
    "queue_id": "general",
    "offer_id": "c-ana.offer1",
}


def api_routes() -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith("/v1/")
        for method in route.methods or ()
    }


async def seed(desk: Desk) -> None:
    """A queue Ana serves, and in the read model a conversation and an offer for Ana and
    for Ben each."""
    async with UnitOfWork(desk.runtime.sessions) as uow:
        await configuration.save(uow, "acme", ev.QueueUpserted(queue_id="general", name="General"))
        await configuration.save(
            uow, "acme", ev.AgentUpserted(agent_id="ana", name="Ana", capacity={ev.Channel.CHAT: 2})
        )
        await uow.commit()
    async with desk.runtime.sessions() as session, session.begin():
        for agent in ("ana", "ben"):
            cid = f"c-{agent}"
            for data in (
                ev.ConversationOpened(
                    conversation_id=cid,
                    channel=ev.Channel.CHAT,
                    provider="webchat",
                    thread_key=cid,
                    customer=ev.Customer(id=cid),
                ),
                ev.ConversationQueued(conversation_id=cid, queue_id="general"),
                ev.OfferCreated(
                    offer_id=f"{cid}.offer1",
                    conversation_id=cid,
                    agent_id=agent,
                    queue_id="general",
                    expires_at=ev.utcnow() + timedelta(minutes=5),
                ),
                ev.ConversationAssigned(conversation_id=cid, agent_id=agent, queue_id="general"),
                ev.MessageAppended(
                    conversation_id=cid,
                    message_id=f"m-{agent}",
                    sender=ev.Sender.CUSTOMER,
                    text="hi",
                ),
            ):
                await apply(session, [ev.Envelope.wrap(data, tenant="acme", key=cid)])


PUBLIC = {("GET", "/v1/public/chat/{session_id}/wait")}  # the web chat widget's


def test_the_matrix_names_every_endpoint() -> None:
    assert api_routes() == set(MATRIX) | PUBLIC


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
async def test_each_role_gets_what_it_is_for(desk: Desk, method: str, path: str) -> None:
    await seed(desk)
    url = re.sub(r"\{(\w+)\}", lambda m: PARAMS.get(m.group(1), "c-ana"), path)
    body = BODIES.get(path, {}) if method in {"POST", "PUT"} else None
    anonymous = await desk.client.request(method, url, json=body)
    statuses = {
        role: (
            await desk.client.request(method, url, json=body, headers=desk.keys[role])
        ).status_code
        for role in Role
    }

    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    for role, status in statuses.items():
        if role in MATRIX[(method, path)]:
            assert status not in {401, 403}, f"{role} was refused {method} {url}"
        else:
            assert status == 403, f"{role} got {status} for {method} {url}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/conversations/c-ben"),
        ("GET", "/v1/conversations/c-ben/messages"),
        ("POST", "/v1/conversations/c-ben/messages"),
        ("POST", "/v1/conversations/c-ben/transfer"),
        ("POST", "/v1/conversations/c-ben/close"),
        ("POST", "/v1/conversations/c-ben/wrap-up/end"),
        ("POST", "/v1/offers/c-ben.offer1/accept"),
        ("POST", "/v1/offers/c-ben.offer1/decline"),
    ],
)
async def test_an_agent_cannot_reach_another_agents_things(
    desk: Desk, method: str, path: str
) -> None:
    await seed(desk)
    body = {"text": "hi"} if path.endswith("messages") else {"queue_id": "general"}
    response = await desk.client.request(
        method, path, json=body if method == "POST" else None, headers=desk.keys[AGENT]
    )
    assert response.status_code == 403


async def test_an_agent_lists_only_their_own_conversations(desk: Desk) -> None:
    await seed(desk)
    listed = await desk.client.get("/v1/conversations", headers=desk.keys[AGENT])
    everyone = await desk.client.get("/v1/conversations", headers=desk.keys[SUPERVISOR])
    assert [c["id"] for c in listed.json()["items"]] == ["c-ana"]
    assert sorted(c["id"] for c in everyone.json()["items"]) == ["c-ana", "c-ben"]
