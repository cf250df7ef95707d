"""The built-in bot and the surveys in `omniroute run` (one process, LocalBus and SQLite),
from the web chat: a simple question answered and resolved by the bot; another one it
escalates, whose transcript the agent then reads at the desk; a closed conversation's
CSAT and NPS answers, and the day's customer-experience summary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.agents.auth import Role
from services.agents.bot import phrases
from tests.e2e.embedded import conversation_of_thread, demo_desk


@dataclass
class Chat:
    client: httpx.AsyncClient
    boss: dict[str, str]
    ana: dict[str, str]
    admin: dict[str, str]

    async def visitor(self) -> tuple[str, dict[str, str]]:
        session = (await self.client.post("/chat/v1/sessions", json={"name": "Lucía"})).json()
        return session["session_id"], {"authorization": f"Bearer {session['token']}"}

    async def says(self, session_id: str, visitor: dict[str, str], text: str) -> None:
        sent = await self.client.post(
            f"/chat/v1/sessions/{session_id}/messages", json={"text": text}, headers=visitor
        )
        assert sent.status_code == 202

    async def transcript_until(
        self, session_id: str, visitor: dict[str, str], lines: int
    ) -> list[tuple[str, str]]:
        seen: list[tuple[str, str]] = []
        for _ in range(400):  # several hops through the bus, each polled
            page = await self.client.get(
                f"/chat/v1/sessions/{session_id}/messages", headers=visitor
            )
            seen = [(m["author"], m["text"]) for m in page.json()["messages"]]
            if len(seen) >= lines:
                return seen
            await asyncio.sleep(0.05)
        raise AssertionError(f"the transcript stopped at {seen}")

    async def conversation(self, session_id: str, state: str) -> Any:
        return await conversation_of_thread(self.client, self.boss, session_id, state)


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    roles = {
        "boss": (Role.SUPERVISOR, None),
        "ana": (Role.AGENT, "ana"),
        "admin": (Role.ADMIN, None),
    }
    async with demo_desk(tmp_path, roles) as (client, keys):
        yield Chat(client, keys["boss"], keys["ana"], keys["admin"])


async def test_the_bot_answers_a_simple_question_and_the_customer_is_done(chat: Chat) -> None:
    session_id, visitor = await chat.visitor()
    await chat.says(session_id, visitor, "What are your opening hours?")
    answered = await chat.transcript_until(session_id, visitor, 3)
    await chat.says(session_id, visitor, "Yes, thanks!")
    transcript = await chat.transcript_until(session_id, visitor, 5)
    closed = await chat.conversation(session_id, "closed")

    assert answered[1][0] == "bot" and "Monday to Friday from 9:00 to 18:00" in answered[1][1]
    assert answered[2] == ("bot", phrases.ASK_FEEDBACK["en"])
    assert transcript[3:] == [("customer", "Yes, thanks!"), ("bot", phrases.GLAD["en"])]
    assert closed["complexity"]["route"] == "bot" and closed["agent_id"] is None
    [closing] = [h for h in closed["history"] if h["type"] == "ConversationClosed"]
    assert closing["detail"]["disposition"] == "resolved_by_bot"


async def test_the_bot_answers_the_intent_the_router_found_in_other_words(chat: Chat) -> None:
    session_id, visitor = await chat.visitor()
    await chat.says(session_id, visitor, "Hola, ¿a qué hora abrís los sábados?")
    answered = await chat.transcript_until(session_id, visitor, 3)

    assert answered[1][0] == "bot" and "los sábados de 10:00 a 14:00" in answered[1][1]
    assert answered[2] == ("bot", phrases.ASK_FEEDBACK["es"])


async def test_an_escalation_reaches_an_agent_with_the_bots_transcript(chat: Chat) -> None:
    session_id, visitor = await chat.visitor()
    await chat.says(session_id, visitor, "¿Cómo cambio la contraseña?")
    await chat.transcript_until(session_id, visitor, 3)
    await chat.says(session_id, visitor, "No, sigue sin funcionar")
    handed = await chat.transcript_until(session_id, visitor, 5)
    waiting = await chat.conversation(session_id, "waiting")

    await chat.client.put("/v1/agents/me/status", json={"status": "available"}, headers=chat.ana)
    [offer] = (
        await chat.client.get("/v1/agents/me/offers", params={"wait": 10}, headers=chat.ana)
    ).json()["items"]
    accepted = await chat.client.post(f"/v1/offers/{offer['id']}/accept", headers=chat.ana)
    seen_by_ana = accepted.json()

    assert handed[-1] == ("bot", phrases.HANDOVER["es"])
    [queued] = [h for h in waiting["history"] if h["type"] == "ConversationQueued"]
    assert queued["detail"]["reason"] == "bot escalated: the answer did not help"
    assert queued["detail"]["priority"] >= 1  # escalations wait ahead of new arrivals
    assert accepted.status_code == 200
    assert [(m["sender"], m["text"]) for m in seen_by_ana["messages"]][:2] == [
        ("customer", "¿Cómo cambio la contraseña?"),
        ("bot", seen_by_ana["messages"][1]["text"]),
    ]
    assert "Iniciar sesión" in seen_by_ana["messages"][1]["text"]
    assert [m["sender"] for m in seen_by_ana["messages"]] == [
        "customer",
        "bot",
        "bot",
        "customer",
        "bot",
    ]


async def test_surveys_after_a_close_and_the_days_summary(chat: Chat) -> None:
    fraud = (await chat.client.get("/v1/queues/fraud", headers=chat.admin)).json()
    spec = {k: fraud[k] for k in ("name", "required_skills", "priority", "service_level_target_s")}
    surveyed = await chat.client.put(
        "/v1/queues/fraud", json={**spec, "surveys": ["csat", "nps"]}, headers=chat.admin
    )
    assert surveyed.status_code == 200
    await asyncio.sleep(0.5)  # the router applies configuration as it comes

    bot_session, bot_visitor = await chat.visitor()
    await chat.says(bot_session, bot_visitor, "What are your opening hours?")
    await chat.transcript_until(bot_session, bot_visitor, 3)
    await chat.says(bot_session, bot_visitor, "yes")
    await chat.conversation(bot_session, "closed")

    session_id, visitor = await chat.visitor()
    await chat.says(session_id, visitor, "Someone used my card, this is fraud!!")
    await chat.client.put("/v1/agents/me/status", json={"status": "available"}, headers=chat.ana)
    [offer] = (
        await chat.client.get("/v1/agents/me/offers", params={"wait": 10}, headers=chat.ana)
    ).json()["items"]
    cid = (await chat.client.post(f"/v1/offers/{offer['id']}/accept", headers=chat.ana)).json()[
        "id"
    ]
    await chat.client.post(
        f"/v1/conversations/{cid}/messages", json={"text": "Card blocked."}, headers=chat.ana
    )
    await chat.transcript_until(session_id, visitor, 2)
    await chat.client.post(f"/v1/conversations/{cid}/close", json={}, headers=chat.ana)
    asked = await chat.transcript_until(session_id, visitor, 3)
    await chat.says(session_id, visitor, "5 ⭐")
    await chat.transcript_until(session_id, visitor, 5)
    await chat.says(session_id, visitor, "9")
    transcript = await chat.transcript_until(session_id, visitor, 7)

    summary: dict[str, Any] = {}
    for _ in range(100):
        summary = (await chat.client.get("/v1/cx/summary", headers=chat.boss)).json()
        if summary["nps"]["promoters"]:
            break
        await asyncio.sleep(0.05)

    assert asked[2][0] == "system" and asked[2][1].startswith("How satisfied")
    assert transcript[4][1].startswith("How likely")
    assert transcript[6] == ("system", "Thank you for your answer!")
    assert summary["conversations"] == 2
    assert summary["csat"] == {"score": 1.0, "answers": 1}
    assert summary["nps"] == {
        "score": 100.0,
        "promoters": 1,
        "passives": 0,
        "detractors": 0,
        "band": "world class",
    }
    assert summary["response_rate"] == 1.0
    assert summary["bot_containment"] == {"rate": 1.0, "handled": 1, "resolved": 1}
    assert summary["first_response_s"]["count"] == 2
    assert summary["resolution_s"]["count"] == 2 and summary["resolution_s"]["p90"] > 0
    assert "from" in summary


async def test_an_faq_entry_put_again_is_replaced_whole(chat: Chat) -> None:
    path = "/v1/bot/faq/en-hours"
    changed = {"language": "en", "question": "When are you open?", "answer": "Always."}
    tagged = await chat.client.put(
        path, json={**changed, "intent": "opening_hours"}, headers=chat.admin
    )
    untagged = await chat.client.put(path, json=changed, headers=chat.admin)
    stored = (await chat.client.get(path, headers=chat.admin)).json()

    assert (tagged.status_code, untagged.status_code) == (200, 200)
    assert stored == {**changed, "intent": None, "faq_id": "en-hours"}
