"""A supervisor watches a queue while a conversation waits, is answered and transferred.

`omniroute run`'s app in one process (LocalBus and SQLite), driven over HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.agents.auth import Role
from tests.e2e.embedded import demo_desk

CHARGEBACK = "I was charged twice for my order, this is a chargeback, refund it now!!"


@dataclass
class Desk:
    client: httpx.AsyncClient
    ana: dict[str, str]
    boss: dict[str, str]

    async def get(self, path: str, key: dict[str, str], **params: Any) -> Any:
        response = await self.client.get(path, params=params, headers=key)
        assert response.status_code == 200, response.text
        return response.json()

    async def until(self, path: str, key: dict[str, str], check: Any, **params: Any) -> Any:
        """The answer once `check` holds: the read model follows the router by a moment."""
        for _ in range(100):
            answer = await self.get(path, key, **params)
            if check(answer):
                return answer
            await asyncio.sleep(0.05)
        raise AssertionError(f"{path} never got there: {answer}")

    async def until_metric(self, line: str) -> None:
        for _ in range(60):
            if line in (await self.client.get("/metrics")).text.splitlines():
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"/metrics never showed {line}")


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    roles = {"ana": (Role.AGENT, "ana"), "boss": (Role.SUPERVISOR, None)}
    async with demo_desk(tmp_path, roles) as (client, keys):
        yield Desk(client, keys["ana"], keys["boss"])


async def test_waiting_answered_and_transferred_as_a_supervisor_sees_it(desk: Desk) -> None:
    session = (await desk.client.post("/chat/v1/sessions", json={"name": "Lucía"})).json()
    visitor = {"authorization": f"Bearer {session['token']}"}
    chat = f"/chat/v1/sessions/{session['session_id']}/messages"
    await desk.client.post(chat, json={"text": CHARGEBACK}, headers=visitor)

    # Nobody is at the desk: it waits first in line, with no wait to quote.
    [waiting] = (
        await desk.until("/v1/conversations", desk.boss, lambda p: p["items"], state="waiting")
    )["items"]
    fraud = await desk.get("/v1/queues/fraud", desk.boss)
    assert (waiting["queue_id"], waiting["position"], waiting["estimated_wait_s"]) == (
        "fraud",
        1,
        None,
    )
    assert (fraud["waiting"], fraud["ewt_s"], fraud["ewt_status"]) == (1, None, "unstaffed")
    assert fraud["longest_wait_s"] >= 0 and fraud["asa_s"] is None
    await desk.until_metric('omniroute_queue_waiting{queue="fraud",tenant="demo"} 1.0')
    wait = f"/v1/public/chat/{session['session_id']}/wait"
    assert (await desk.client.get(wait)).json() == {"waiting": True, "position": 1, "ewt_s": None}

    # Ana comes in, is offered it and takes it.
    await desk.client.put("/v1/agents/me/status", json={"status": "available"}, headers=desk.ana)
    [offer] = (await desk.get("/v1/agents/me/offers", desk.ana, wait=10))["items"]
    accepted = await desk.client.post(f"/v1/offers/{offer['id']}/accept", headers=desk.ana)
    assert accepted.status_code == 200
    cid = accepted.json()["id"]
    answered = await desk.until(
        "/v1/queues/fraud", desk.boss, lambda q: q["asa_s"] is not None and not q["waiting"]
    )
    assert answered["service_level"]["last_15_min"] == 1.0
    await desk.until_metric('omniroute_queue_waiting{queue="fraud",tenant="demo"} 0.0')
    await desk.until(wait, desk.boss, lambda w: w["waiting"] is False)  # places may be 2 s old
    assert (await desk.client.get("/v1/public/chat/no-such-session/wait")).status_code == 404
    await desk.until_metric('omniroute_agents{status="available",tenant="demo"} 1.0')
    assert answered["agents"] == {"available": 1, "busy": 0, "away": 0, "slots": 3}
    agents = {a["agent_id"]: a for a in (await desk.get("/v1/agents", desk.boss))["items"]}
    assert (agents["ana"]["status"], agents["ana"]["load"], agents["chen"]["status"]) == (
        "available",
        {"chat": 1},
        "offline",
    )
    assert agents["ana"]["occupancy"] == pytest.approx(1 / sum(agents["ana"]["capacity"].values()))

    # The desk's transcript long-polls the customer's next message.
    [first] = (await desk.get(f"/v1/conversations/{cid}/messages", desk.ana))["items"]
    polling = asyncio.create_task(
        desk.get(f"/v1/conversations/{cid}/messages", desk.ana, after=first["id"], wait=10)
    )
    await asyncio.sleep(0.2)
    await desk.client.post(chat, json={"text": "Are you still there?"}, headers=visitor)
    assert [m["text"] for m in (await polling)["items"]] == ["Are you still there?"]

    # A transfer to an agent who is offline is refused; to the billing queue it goes.
    refused = await desk.client.post(
        f"/v1/conversations/{cid}/transfer", json={"agent_id": "ben"}, headers=desk.ana
    )
    moved = await desk.client.post(
        f"/v1/conversations/{cid}/transfer", json={"queue_id": "billing"}, headers=desk.ana
    )
    gone = await desk.client.get(f"/v1/conversations/{cid}", headers=desk.ana)
    history = [
        line["type"] for line in (await desk.get(f"/v1/conversations/{cid}", desk.boss))["history"]
    ]

    assert (refused.status_code, refused.json()["detail"]) == (409, "agent ben is not available")
    assert moved.status_code == 200
    assert (moved.json()["state"], moved.json()["queue_id"]) == ("waiting", "billing")
    assert gone.status_code == 403
    assert history == [
        "ConversationOpened",
        "ComplexityScored",
        "ConversationQueued",
        "OfferCreated",
        "ConversationAssigned",
        "TransferRefused",
        "ConversationTransferred",
        "ConversationQueued",
    ]
