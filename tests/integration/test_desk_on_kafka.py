"""The whole desk as three processes (channels, router, agents) on the real Kafka and
PostgreSQL, with a fake Telegram Bot API: a customer writes on Telegram, an agent
long-polling gets the offer, accepts, replies (it reaches Telegram) and closes, and the
queue's statistics follow. A simple question on a bot channel is answered by the bot
from the tenant's FAQ, on Telegram, and the customer's "yes" resolves it.
Then the agents service is restarted with --rebuild and shows the same conversation.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import unique
from tests.fake_providers import FakeProvider, fake_provider
from tests.processes import OmnirouteProcess, migrate, run_cli

SECRET = "telegram-webhook-secret"
BOT_TOKEN = "123456:bot-token"
_ids = itertools.count(1)


@dataclass
class Desk:
    channels: OmnirouteProcess
    agents: OmnirouteProcess
    api: httpx.AsyncClient
    admin: dict[str, str]
    ana: dict[str, str]
    telegram: FakeProvider
    env: dict[str, str]
    log_dir: Path
    started: list[OmnirouteProcess]

    async def customer_writes(self, text: str, chat_id: int) -> httpx.Response:
        n = next(_ids)
        update = {
            "update_id": 50_000 + n,
            "message": {
                "message_id": n,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Lucía"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Lucía"},
                "text": text,
            },
        }
        async with httpx.AsyncClient(base_url=self.channels.base_url) as client:
            return await client.post(
                "/webhooks/telegram/acme-bot",
                json=update,
                headers={"x-telegram-bot-api-secret-token": SECRET},
            )

    async def until(self, path: str, check: Any, key: dict[str, str] | None = None) -> Any:
        for _ in range(150):
            answer = (await self.api.get(path, headers=key or self.admin)).json()
            if check(answer):
                return answer
            await asyncio.sleep(0.1)
        raise AssertionError(f"{path} never got there: {answer}")


@pytest.fixture
def env(kafka_bootstrap: str, fresh_postgres_url: str, tmp_path: Path) -> dict[str, str]:
    migrate(fresh_postgres_url)
    return {
        "OMNIROUTE_BUS": "kafka",
        "OMNIROUTE_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "OMNIROUTE_KAFKA_TOPIC_PREFIX": unique("desk") + ".",
        "OMNIROUTE_DATABASE_URL": fresh_postgres_url,
        "OMNIROUTE_DATA_DIR": str(tmp_path),
    }


@pytest.fixture
def started(env: dict[str, str], tmp_path: Path) -> Iterator[list[OmnirouteProcess]]:
    processes: list[OmnirouteProcess] = []
    yield processes
    for process in processes:
        process.kill()


@pytest.fixture
async def desk(
    env: dict[str, str], started: list[OmnirouteProcess], tmp_path: Path
) -> AsyncIterator[Desk]:
    admin = run_cli(["keys", "create", "--role", "admin", "--tenant", "acme"], env).split()[-1]
    ana = run_cli(
        ["keys", "create", "--role", "agent", "--agent", "ana", "--tenant", "acme"], env
    ).split()[-1]
    async with fake_provider() as telegram:
        bots = json.dumps(
            {"acme-bot": {"tenant": "acme", "secret_token": SECRET, "bot_token": BOT_TOKEN}}
        )
        channels_env = {
            **env,
            "OMNIROUTE_TELEGRAM_BOTS": bots,
            "OMNIROUTE_TELEGRAM_API_BASE": telegram.base_url,
        }
        channels = OmnirouteProcess("channels", channels_env, tmp_path / "channels.log")
        router = OmnirouteProcess("router", env, tmp_path / "router.log")
        agents = OmnirouteProcess("agents", env, tmp_path / "agents.log")
        started.extend([channels, router, agents])
        for process in started:
            await asyncio.to_thread(process.wait_until_ready)
        async with httpx.AsyncClient(base_url=agents.base_url, timeout=40) as api:
            desk = Desk(
                channels,
                agents,
                api,
                {"authorization": f"Bearer {admin}"},
                {"authorization": f"Bearer {ana}"},
                telegram,
                env,
                tmp_path,
                started,
            )
            await configure(desk)
            yield desk


async def configure(desk: Desk) -> None:
    """A queue, Ana, and the rules, through the API as an admin would."""
    for path, body in (
        ("/v1/queues", {"queue_id": "general", "name": "General", "service_level_target_s": 30}),
        ("/v1/agents", {"agent_id": "ana", "name": "Ana", "capacity": {"telegram": 2}}),
    ):
        assert (await desk.api.post(path, json=body, headers=desk.admin)).status_code == 201
    rules = {"default_queue_id": "general", "bot_channels": ["telegram"]}
    assert (await desk.api.put("/v1/routing/rules", json=rules, headers=desk.admin)).is_success
    await desk.api.put("/v1/agents/me/status", json={"status": "available"}, headers=desk.ana)
    await desk.until("/v1/agents/ana", lambda a: a["status"] == "available")


async def test_telegram_to_an_agent_and_back_across_three_services(desk: Desk) -> None:
    polling = asyncio.create_task(
        desk.api.get("/v1/agents/me/offers", params={"wait": 30}, headers=desk.ana)
    )
    await asyncio.sleep(0.5)  # the long poll is waiting
    text = "I was charged twice and I want a refund now, this is unacceptable!!"
    acked = await desk.customer_writes(text, chat_id=777)
    acked_at = time.monotonic()
    offers = (await polling).json()["items"]
    offered_after_s = time.monotonic() - acked_at

    [offer] = offers
    accepted = await desk.api.post(f"/v1/offers/{offer['id']}/accept", headers=desk.ana)
    cid = accepted.json()["id"]
    await desk.api.post(
        f"/v1/conversations/{cid}/messages", json={"text": "Refunding it now."}, headers=desk.ana
    )
    for _ in range(100):
        if desk.telegram.calls:
            break
        await asyncio.sleep(0.1)
    await desk.api.post(f"/v1/conversations/{cid}/close", json={}, headers=desk.ana)
    closed = await desk.until(f"/v1/conversations/{cid}", lambda c: c["state"] == "closed")
    queue = await desk.until("/v1/queues/general", lambda q: q["aht_s"] is not None)

    print(f"offer seen by the long-polling agent {offered_after_s * 1000:.0f} ms after the ack")
    assert acked.status_code == 200
    assert offered_after_s < 1.0
    assert accepted.status_code == 200 and accepted.json()["agent_id"] == "ana"
    assert desk.telegram.calls == [
        (f"bot{BOT_TOKEN}/sendMessage", {"chat_id": "777", "text": "Refunding it now."})
    ]
    assert [m["text"] for m in closed["messages"]] == [text, "Refunding it now."]
    assert closed["complexity"]["route"] == "agent"
    assert queue["waiting"] == 0 and queue["asa_s"] is not None
    assert queue["service_level"]["today"] == 1.0 and queue["abandonment_rate"] == 0

    # The read model rebuilt from cc.routing.v1 by a restarted agents service is the same.
    desk.agents.kill()
    rebuilt = OmnirouteProcess(
        "agents", desk.env, desk.log_dir / "agents-rebuilt.log", args=("--rebuild",)
    )
    desk.started.append(rebuilt)
    await asyncio.to_thread(rebuilt.wait_until_ready, 120)
    async with httpx.AsyncClient(base_url=rebuilt.base_url) as api:
        again = (await api.get(f"/v1/conversations/{cid}", headers=desk.admin)).json()
    assert again == closed
    assert "rebuilt the read model from" in rebuilt.output()


async def test_a_simple_question_on_a_bot_channel_is_answered_by_the_bot(desk: Desk) -> None:
    hours = {
        "faq_id": "hours",
        "language": "en",
        "question": "What are your opening hours?",
        "answer": "We are open Monday to Saturday, 9:00 to 18:00.",
        "intent": "opening_hours",
    }
    assert (await desk.api.post("/v1/bot/faq", json=hours, headers=desk.admin)).status_code == 201
    stored = (await desk.api.get("/v1/bot/faq/hours", headers=desk.admin)).json()
    # Few words in common with the entry's question: the router's intent finds it.
    acked = await desk.customer_writes("what time do you close on saturdays", chat_id=888)
    for _ in range(100):
        if len(desk.telegram.calls) >= 2:
            break
        await asyncio.sleep(0.1)
    [bot] = (await desk.until("/v1/conversations?state=bot", lambda page: page["items"]))["items"]
    offers = await desk.api.get("/v1/agents/me/offers", headers=desk.ana)
    await desk.customer_writes("yes, thanks", chat_id=888)
    closed = await desk.until(f"/v1/conversations/{bot['id']}", lambda c: c["state"] == "closed")

    assert stored == hours
    assert acked.status_code == 200
    assert (bot["channel"], bot["thread"]) == ("telegram", "888")
    assert bot["complexity"]["route"] == "bot" and bot["agent_id"] is None
    assert [call["text"] for _, call in desk.telegram.calls[:2]] == [
        hours["answer"],
        "Did that answer your question? Reply yes or no.",
    ]
    assert offers.json()["items"] == []
    [closing] = [h for h in closed["history"] if h["type"] == "ConversationClosed"]
    assert closing["detail"]["disposition"] == "resolved_by_bot"
