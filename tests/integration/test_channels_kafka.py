"""The channels service on the real Kafka and PostgreSQL: a webhook in, a reply out."""

from __future__ import annotations

import asyncio
import json

from services.channels.app import create_app
from services.channels.webhooks import hmac_sha256
from shared import events as ev
from shared.bus.kafka import KafkaBus
from shared.config import Settings
from shared.db.migrate import upgrade_async
from shared.runtime import bootstrap
from tests.asgi import serve
from tests.conftest import unique
from tests.fake_providers import fake_provider
from tests.integration.test_bus_contract import nothing_more, take

SECRET = "app-secret"


async def test_a_signed_meta_webhook_becomes_one_message_on_kafka(
    kafka_bootstrap: str, fresh_postgres_url: str
) -> None:
    await upgrade_async(fresh_postgres_url)
    prefix = unique("channels") + "."
    settings = Settings(
        database_url=fresh_postgres_url,
        meta_app_secret=SECRET,
        meta_accounts={"PAGE_1": "acme"},
    )
    bus = KafkaBus(kafka_bootstrap, topic_prefix=prefix, partitions=3)
    runtime = bootstrap(settings, bus=bus)
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "PAGE_1",
                    "time": 1458692752478,
                    "messaging": [
                        {
                            "sender": {"id": "PSID_42"},
                            "recipient": {"id": "PAGE_1"},
                            "timestamp": 1458692752478,
                            "message": {"mid": "mid.1457764197618:41d1", "text": "hello, world!"},
                        }
                    ],
                }
            ],
        }
    ).encode()
    headers = {"x-hub-signature-256": "sha256=" + hmac_sha256(SECRET, body).hex()}
    async with serve(create_app(runtime)) as client:
        await runtime.connected.wait()
        first = await client.post("/webhooks/meta", content=body, headers=headers)
        retry = await client.post("/webhooks/meta", content=body, headers=headers)
        async with bus.subscribe([ev.INBOUND], "inspector") as subscription:
            [record] = await take(subscription, 1)
            await nothing_more(subscription)

    assert (first.json(), retry.json()) == ({"accepted": 1}, {"accepted": 0})
    envelope = ev.decode(record.value, topic=ev.INBOUND)
    message = envelope.data
    assert isinstance(message, ev.MessageReceived)
    assert (envelope.tenant, record.key) == ("acme", "acme")
    assert (message.channel, message.thread_key, message.text, message.language_hint) == (
        ev.Channel.MESSENGER,
        "PSID_42",
        "hello, world!",
        "en",
    )


async def test_a_reply_on_kafka_reaches_the_telegram_chat(
    kafka_bootstrap: str, fresh_postgres_url: str
) -> None:
    await upgrade_async(fresh_postgres_url)
    async with fake_provider() as telegram:
        settings = Settings.model_validate(
            {
                "database_url": fresh_postgres_url,
                "telegram_api_base": telegram.base_url,
                "telegram_bots": {
                    "support": {"tenant": "acme", "secret_token": "s", "bot_token": "42:TOKEN"}
                },
            }
        )
        bus = KafkaBus(kafka_bootstrap, topic_prefix=unique("outbound") + ".", partitions=3)
        runtime = bootstrap(settings, bus=bus)
        reply = ev.DeliverMessage(
            conversation_id="c1",
            channel=ev.Channel.TELEGRAM,
            provider="telegram",
            recipient="1111111",
            thread_key="1111111",
            text="Your refund is on its way.",
            account_id="support",
        )
        async with serve(create_app(runtime)):
            await runtime.connected.wait()
            await bus.publish(ev.OUTBOUND, "acme", ev.Envelope.wrap(reply, tenant="acme", key="c1"))
            for _ in range(300):
                if telegram.calls:
                    break
                await asyncio.sleep(0.1)

    assert telegram.calls == [
        ("bot42:TOKEN/sendMessage", {"chat_id": "1111111", "text": "Your refund is on its way."})
    ]


async def test_a_web_chat_customer_who_ends_the_chat_is_reported_gone_once(
    kafka_bootstrap: str, fresh_postgres_url: str
) -> None:
    await upgrade_async(fresh_postgres_url)
    prefix = unique("channels") + "."
    settings = Settings(database_url=fresh_postgres_url, chat_widgets={"wk_acme": "acme"})
    bus = KafkaBus(kafka_bootstrap, topic_prefix=prefix, partitions=3)
    runtime = bootstrap(settings, bus=bus)
    async with serve(create_app(runtime)) as client:
        await runtime.connected.wait()
        session = (await client.post("/chat/v1/sessions", json={"widget_key": "wk_acme"})).json()
        chat = f"/chat/v1/sessions/{session['session_id']}"
        visitor = {"authorization": f"Bearer {session['token']}"}
        await client.post(f"{chat}/messages", json={"text": "hola?"}, headers=visitor)
        ended = [(await client.post(f"{chat}/leave", headers=visitor)).status_code for _ in "ab"]
        stranger = await client.post(f"{chat}/leave", headers={"authorization": "Bearer x"})
        async with bus.subscribe([ev.INBOUND], "inspector") as subscription:
            records = await take(subscription, 2)
            await nothing_more(subscription)

    assert ended == [202, 202] and stranger.status_code == 401
    wrote, left = (ev.decode(record.value, topic=ev.INBOUND) for record in records)
    assert isinstance(wrote.data, ev.MessageReceived) and isinstance(left.data, ev.CustomerLeft)
    assert (left.tenant, records[1].key) == ("acme", "acme")
    assert (left.data.channel, left.data.thread_key, left.data.reason) == (
        ev.Channel.CHAT,
        session["session_id"],
        "ended the chat",
    )


async def test_a_web_chat_message_with_nul_characters_is_taken(
    kafka_bootstrap: str, fresh_postgres_url: str
) -> None:
    """PostgreSQL's text holds no NUL: a visitor's stray one was a 500 on every retry."""
    await upgrade_async(fresh_postgres_url)
    settings = Settings(database_url=fresh_postgres_url, chat_widgets={"wk_acme": "acme"})
    bus = KafkaBus(kafka_bootstrap, topic_prefix=unique("channels") + ".", partitions=3)
    runtime = bootstrap(settings, bus=bus)
    async with serve(create_app(runtime)) as client:
        await runtime.connected.wait()
        opened = await client.post(
            "/chat/v1/sessions", json={"widget_key": "wk_acme", "name": "Lu\u0000cía"}
        )
        session = opened.json()
        chat = f"/chat/v1/sessions/{session['session_id']}"
        visitor = {"authorization": f"Bearer {session['token']}"}
        sent = await client.post(f"{chat}/messages", json={"text": "ho\u0000la"}, headers=visitor)
        shown = await client.get(f"{chat}/messages", headers=visitor)
        async with bus.subscribe([ev.INBOUND], "inspector") as subscription:
            [record] = await take(subscription, 1)

    assert (opened.status_code, sent.status_code) == (201, 202)
    assert [m["text"] for m in shown.json()["messages"]] == ["hola"]
    message = ev.decode(record.value, topic=ev.INBOUND).data
    assert isinstance(message, ev.MessageReceived)
    assert (message.text, message.customer.name) == ("hola", "Lucía")
