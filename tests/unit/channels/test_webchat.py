"""The web chat API as the widget uses it, and replies reaching the widget's long poll."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import update

from services.channels.providers import webchat
from shared import events as ev
from shared.db.models import ChatSession
from tests.unit.channels.conftest import Channels, channels_app, desk_settings


async def open_session(channels: Channels, **body: object) -> tuple[str, dict[str, str]]:
    response = await channels.client.post(
        "/chat/v1/sessions", json={"widget_key": "wk_acme", **body}
    )
    assert response.status_code == 201
    created = response.json()
    return created["session_id"], {"authorization": f"Bearer {created['token']}"}


async def test_a_visitor_writes_and_the_message_is_routed_threaded_by_session(
    tmp_path: Path,
) -> None:
    async with channels_app(desk_settings(tmp_path, chat_widgets={"wk_acme": "acme"})) as chat:
        session_id, auth = await open_session(chat, name="Lucía", language="es")
        sent = await chat.client.post(
            f"/chat/v1/sessions/{session_id}/messages", json={"text": "¿Hola?"}, headers=auth
        )
        transcript = await chat.client.get(f"/chat/v1/sessions/{session_id}/messages", headers=auth)
        [envelope] = await chat.inbound()

    assert sent.status_code == 202
    message = envelope.data
    assert isinstance(message, ev.MessageReceived)
    assert (envelope.tenant, message.channel, message.thread_key, message.customer.name) == (
        "acme",
        ev.Channel.CHAT,
        session_id,
        "Lucía",
    )
    lines = transcript.json()
    assert [(m["author"], m["text"]) for m in lines["messages"]] == [("customer", "¿Hola?")]
    assert set(lines) == {"messages"}  # place in line comes from the agents service


async def test_the_long_poll_answers_as_soon_as_an_agent_replies(tmp_path: Path) -> None:
    async with channels_app(desk_settings(tmp_path, chat_widgets={"wk_acme": "acme"})) as chat:
        session_id, auth = await open_session(chat)
        first = await chat.client.post(
            f"/chat/v1/sessions/{session_id}/messages", json={"text": "hi"}, headers=auth
        )
        after = first.json()["id"]
        waiting = asyncio.create_task(
            chat.client.get(
                f"/chat/v1/sessions/{session_id}/messages",
                params={"after": after, "wait": 10},
                headers=auth,
            )
        )
        await asyncio.sleep(0.3)
        assert not waiting.done()
        reply = ev.Envelope.wrap(
            ev.DeliverMessage(
                conversation_id="c1",
                channel=ev.Channel.CHAT,
                provider="webchat",
                recipient=session_id,
                thread_key=session_id,
                text="Hi, I'm Ana. How can I help?",
            ),
            tenant="acme",
            key="c1",
        )
        assert isinstance(reply.data, ev.DeliverMessage)
        async with httpx.AsyncClient() as client:
            await webchat.send(client, chat.runtime, reply, reply.data)
            await webchat.send(client, chat.runtime, reply, reply.data)  # redelivered: stored once
        answered = await asyncio.wait_for(waiting, 5)

    assert [(m["author"], m["text"]) for m in answered.json()["messages"]] == [
        ("agent", "Hi, I'm Ana. How can I help?")
    ]


async def test_tokens_unknown_keys_and_empty_messages_are_refused(tmp_path: Path) -> None:
    async with channels_app(desk_settings(tmp_path, chat_widgets={"wk_acme": "acme"})) as chat:
        session_id, auth = await open_session(chat)
        other_id, _ = await open_session(chat)
        wrong = await chat.client.get(f"/chat/v1/sessions/{other_id}/messages", headers=auth)
        none = await chat.client.get(f"/chat/v1/sessions/{session_id}/messages")
        unknown = await chat.client.post("/chat/v1/sessions", json={"widget_key": "nope"})
        empty = await chat.client.post(
            f"/chat/v1/sessions/{session_id}/messages", json={"text": ""}, headers=auth
        )
    assert (wrong.status_code, none.status_code, unknown.status_code, empty.status_code) == (
        401,
        401,
        403,
        422,
    )
    assert empty.json()["errors"][0]["field"] == "body.text"


async def test_the_widget_and_the_demo_page_are_served(channels: Channels) -> None:
    script = await channels.client.get("/chat/widget.js")
    page = await channels.client.get("/chat/demo")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "/chat/v1" in script.text
    assert '<script src="/chat/widget.js">' in page.text


def departures(reason: str) -> float:
    return REGISTRY.get_sample_value("omniroute_chat_departures_total", {"reason": reason}) or 0.0


async def test_ending_the_chat_while_the_bus_is_down_answers_503_and_the_retry_counts(
    tmp_path: Path,
) -> None:
    async with channels_app(desk_settings(tmp_path, chat_widgets={"wk_acme": "acme"})) as chat:
        session_id, auth = await open_session(chat)
        leave = f"/chat/v1/sessions/{session_id}/leave"
        await chat.client.post(
            f"/chat/v1/sessions/{session_id}/messages", json={"text": "hi"}, headers=auth
        )
        counted = departures("ended the chat")
        await chat.bus.close()
        down = await chat.client.post(leave, headers=auth)
        await chat.bus.start()
        retried = await chat.client.post(leave, headers=auth)
        again = await chat.client.post(leave, headers=auth)
        left = [e.data for e in await chat.inbound() if isinstance(e.data, ev.CustomerLeft)]
        metrics = (await chat.client.get("/metrics")).text
        now_counted = departures("ended the chat")

    assert (down.status_code, retried.status_code, again.status_code) == (503, 202, 202)
    assert down.json()["detail"] == "could not end the chat; please retry"
    assert [(c.thread_key, c.reason) for c in left] == [(session_id, "ended the chat")]
    assert now_counted == counted + 1
    assert 'omniroute_chat_departures_total{reason="ended the chat"}' in metrics


async def test_after_an_outage_a_widget_back_within_the_idle_time_has_not_left(
    tmp_path: Path,
) -> None:
    settings = desk_settings(tmp_path, chat_widgets={"wk_acme": "acme"}, chat_idle_s=3.0)
    async with channels_app(settings) as chat:
        session_id, auth = await open_session(chat)
        messages = f"/chat/v1/sessions/{session_id}/messages"
        await chat.client.post(messages, json={"text": "hi"}, headers=auth)
        # Last seen before this service went down for an hour, then started again.
        async with chat.runtime.sessions() as db, db.begin():
            await db.execute(
                update(ChatSession).values(last_seen_at=ev.utcnow() - timedelta(hours=1))
            )
        await asyncio.sleep(1.5)  # the widget retries a failed poll after a moment
        for _ in range(10):
            await chat.client.get(messages, headers=auth)
            await asyncio.sleep(0.2)
        left = [e.data for e in await chat.inbound() if isinstance(e.data, ev.CustomerLeft)]

    assert left == []
