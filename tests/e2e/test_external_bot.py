"""A tenant's external bot, a real HTTP server on 127.0.0.1: omniroute posts it each
customer message, signed; it answers through the API with its `bot` key. A bot that does
not answer in time, or cannot be reached, hands the conversation to a person."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from services.agents.auth import Role
from tests.e2e.embedded import conversation_of_thread, demo_desk
from tests.fake_providers import on_port
from tests.processes import free_port

SECRET = "a-secret-of-the-bots-own"


@dataclass
class Bot:
    """Answers every message by echoing it, resolves on "thanks", stays silent on
    messages that mention "slow", and sends its answer twice (with one Idempotency-Key,
    as after a timeout) to messages that mention "twice". Records what it was sent and
    whether it was signed."""

    api: httpx.AsyncClient
    key: str
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    signed: list[bool] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # the API's status codes

    async def answer(self, event: dict[str, Any]) -> None:
        cid, text = event["conversation_id"], event["text"]
        headers = {"authorization": f"Bearer {self.key}"}
        if "slow" in text:
            return
        if text == "thanks":
            await self.api.post(f"/v1/bot/conversations/{cid}/resolve", headers=headers)
        else:
            keyed = headers | {"idempotency-key": f"answer-to-{event['at']}"}
            for _ in range(2 if "twice" in text else 1):
                answered = await self.api.post(
                    f"/v1/bot/conversations/{cid}/reply",
                    json={"text": f"Echo: {text}"},
                    headers=keyed,
                )
                self.answers.append(answered.status_code)


@contextlib.asynccontextmanager
async def bot_server(bot: Bot) -> AsyncIterator[Bot]:
    app = FastAPI()
    tasks: set[asyncio.Task[None]] = set()

    @app.post("/bot")
    async def receive(request: Request) -> Response:
        body = await request.body()
        timestamp = request.headers["x-omniroute-timestamp"]
        expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
        bot.signed.append(
            hmac.compare_digest(
                request.headers["x-omniroute-signature"], "sha256=" + expected.hexdigest()
            )
            and abs(time.time() - int(timestamp)) < 300
        )
        event = json.loads(body)
        bot.received.append(event)
        task = asyncio.create_task(bot.answer(event))  # answer later, as a bot would
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return Response(status_code=204)

    port = free_port()
    bot.url = f"http://127.0.0.1:{port}/bot"
    async with on_port(app, port):
        yield bot


@dataclass
class Desk:
    client: httpx.AsyncClient
    admin: dict[str, str]
    boss: dict[str, str]
    bot: Bot

    async def chat(self, text: str) -> tuple[str, dict[str, str]]:
        session = (await self.client.post("/chat/v1/sessions", json={})).json()
        visitor = {"authorization": f"Bearer {session['token']}"}
        await self.write(session["session_id"], visitor, text)
        return session["session_id"], visitor

    async def write(self, session_id: str, visitor: dict[str, str], text: str) -> None:
        path = f"/chat/v1/sessions/{session_id}/messages"
        assert (await self.client.post(path, json={"text": text}, headers=visitor)).is_success

    async def conversation(self, session_id: str, state: str) -> Any:
        return await conversation_of_thread(self.client, self.boss, session_id, state)


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    roles = {"admin": (Role.ADMIN, None), "boss": (Role.SUPERVISOR, None), "bot": (Role.BOT, None)}
    async with demo_desk(tmp_path, roles) as (client, keys):
        bot_key = keys["bot"]["authorization"].removeprefix("Bearer ")
        async with bot_server(Bot(client, bot_key)) as bot:
            webhook = {"url": bot.url, "secret": SECRET, "timeout_s": 1.5}
            put = await client.put("/v1/bot/webhook", json=webhook, headers=keys["admin"])
            assert put.is_success
            yield Desk(client, keys["admin"], keys["boss"], bot)


async def test_the_external_bot_answers_and_resolves_through_the_api(desk: Desk) -> None:
    session_id, visitor = await desk.chat("What are your opening hours?")
    for _ in range(200):
        page = await desk.client.get(f"/chat/v1/sessions/{session_id}/messages", headers=visitor)
        if len(page.json()["messages"]) == 2:
            break
        await asyncio.sleep(0.05)
    await desk.write(session_id, visitor, "thanks")
    closed = await desk.conversation(session_id, "closed")

    assert [m["text"] for m in page.json()["messages"]] == [
        "What are your opening hours?",
        "Echo: What are your opening hours?",
    ]
    assert [e["text"] for e in desk.bot.received] == ["What are your opening hours?", "thanks"]
    assert desk.bot.received[0]["intents"] == ["opening_hours"]
    assert desk.bot.signed == [True, True]
    assert desk.bot.received[1]["transcript"][1] == {
        "sender": "bot",
        "text": "Echo: What are your opening hours?",
        "at": desk.bot.received[1]["transcript"][1]["at"],
    }
    [closing] = [h for h in closed["history"] if h["type"] == "ConversationClosed"]
    assert closing["detail"]["disposition"] == "resolved_by_bot"


async def test_a_bot_that_does_not_answer_in_time_hands_over_to_a_person(desk: Desk) -> None:
    started = time.monotonic()
    session_id, _ = await desk.chat("When do you open? Take it slow.")
    waiting = await desk.conversation(session_id, "waiting")
    [queued] = [h for h in waiting["history"] if h["type"] == "ConversationQueued"]

    assert queued["detail"]["reason"] == "bot escalated: the external bot did not answer in time"
    assert time.monotonic() - started >= 1.5
    assert [m["sender"] for m in waiting["messages"]] == ["customer"]


async def test_a_bot_that_cannot_be_reached_hands_over_at_once(desk: Desk) -> None:
    unreachable = {"url": f"http://127.0.0.1:{free_port()}/bot", "secret": SECRET}
    await desk.client.put("/v1/bot/webhook", json=unreachable, headers=desk.admin)
    session_id, _ = await desk.chat("What are your opening hours?")
    waiting = await desk.conversation(session_id, "waiting")
    [queued] = [h for h in waiting["history"] if h["type"] == "ConversationQueued"]
    assert queued["detail"]["reason"] == (
        "bot escalated: the external bot failed: ConnectError posting to the bot"
    )


async def test_an_answer_the_bot_sends_again_with_its_key_reaches_the_customer_once(
    desk: Desk,
) -> None:
    session_id, visitor = await desk.chat("Where is my order? (I may ask twice)")
    chat = f"/chat/v1/sessions/{session_id}/messages"
    for _ in range(200):
        if len(desk.bot.answers) == 2:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1)  # time for a second copy to arrive, if one were sent
    lines = (await desk.client.get(chat, headers=visitor)).json()["messages"]
    await desk.write(session_id, visitor, "thanks")
    await desk.conversation(session_id, "closed")

    assert desk.bot.answers == [202, 202]
    assert [m["text"] for m in lines] == [
        "Where is my order? (I may ask twice)",
        "Echo: Where is my order? (I may ask twice)",
    ]
    # The transcript the bot is sent with the next message holds the answer once.
    transcript = desk.bot.received[1]["transcript"]
    assert [line["sender"] for line in transcript] == ["customer", "bot", "customer"]
