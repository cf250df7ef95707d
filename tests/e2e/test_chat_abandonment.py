"""A web chat customer who leaves while waiting abandons the queue: by ending the chat,
or by closing the page (the widget stops polling). One who keeps the chat open waits on.
`omniroute run`'s app, LocalBus and SQLite, no agent available."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from services.agents.auth import Role
from tests.e2e.embedded import Headers, conversation_of_thread, demo_desk

COMPLEX = "I was charged twice and nobody answers, I want my money back now!!"
# Long enough that a poll slowed by a busy machine does not pass for a departure.
IDLE_S = 4.0


async def visitor_writes(client: httpx.AsyncClient) -> tuple[str, Headers]:
    session = (await client.post("/chat/v1/sessions", json={"name": "Lucía"})).json()
    visitor = {"authorization": f"Bearer {session['token']}"}
    sent = await client.post(
        f"/chat/v1/sessions/{session['session_id']}/messages",
        json={"text": COMPLEX},
        headers=visitor,
    )
    assert sent.status_code == 202
    return session["session_id"], visitor


def waited(conversation: dict[str, Any]) -> float:
    [abandoned] = [h for h in conversation["history"] if h["type"] == "ConversationAbandoned"]
    return float(abandoned["detail"]["waited_s"])


async def test_a_customer_who_leaves_while_waiting_abandons_the_queue(tmp_path: Path) -> None:
    async with demo_desk(tmp_path, {"boss": (Role.SUPERVISOR, None)}, chat_idle_s=IDLE_S) as (
        client,
        keys,
    ):
        staying, staying_visitor = await visitor_writes(client)
        closing_page, _ = await visitor_writes(client)
        ending, ending_visitor = await visitor_writes(client)
        for thread in (staying, closing_page, ending):
            await conversation_of_thread(client, keys["boss"], thread, "waiting")

        async def open_widget() -> None:  # polls on; the closed page does not
            while True:
                await client.get(f"/chat/v1/sessions/{staying}/messages", headers=staying_visitor)
                await asyncio.sleep(0.2)

        polling = asyncio.create_task(open_widget())
        ended = await client.post(f"/chat/v1/sessions/{ending}/leave", headers=ending_visitor)
        left = await conversation_of_thread(client, keys["boss"], closing_page, "abandoned")
        gone = await conversation_of_thread(client, keys["boss"], ending, "abandoned")
        await asyncio.sleep(IDLE_S / 2)  # the open widget, quiet for none of it, stays
        still = await conversation_of_thread(client, keys["boss"], staying, "waiting")
        queues = (await client.get("/v1/queues", headers=keys["boss"])).json()["items"]
        polling.cancel()

    assert ended.status_code == 202
    assert {left["state"], gone["state"], still["state"]} == {"abandoned", "waiting"}
    # A closed page is noticed once it has been quiet for the idle time; an ended chat at once.
    assert waited(left) >= IDLE_S > waited(gone)
    assert sum(queue["waiting"] for queue in queues) == 1
