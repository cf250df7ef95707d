"""Replies to a fake Telegram Bot API over real HTTP: retries, Retry-After, dead letters."""

from __future__ import annotations

import asyncio
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from services.channels import outbound
from services.channels.app import SENDERS, deliver_outbound
from shared import events as ev
from shared.bus.local import LocalBus
from shared.config import Settings
from shared.db.migrate import upgrade_async
from shared.runtime import Runtime, bootstrap
from tests.fake_providers import FakeProvider, fake_provider
from tests.processes import free_port

TOKEN = "123456:ABC-DEF"


def reply(text: str, message_id: str | None = None) -> ev.Envelope:
    return ev.Envelope.wrap(
        ev.DeliverMessage(
            conversation_id="c1",
            channel=ev.Channel.TELEGRAM,
            provider="telegram",
            recipient="1111111",
            thread_key="1111111",
            text=text,
            message_id=message_id,
        ),
        tenant="acme",
        key="c1",
    )


async def run_delivery(runtime: Runtime, until: int, fake: FakeProvider) -> list[ev.DeadLettered]:
    """Run the delivery worker until the fake saw `until` calls (and a moment more)."""
    await upgrade_async(runtime.settings.effective_database_url)
    await runtime.bus.start()

    async def work() -> None:
        await deliver_outbound(runtime)

    worker = asyncio.create_task(work())
    for _ in range(200):
        if len(fake.calls) >= until:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    runtime.stop.set()
    await worker
    async with runtime.bus.subscribe([ev.DEAD_LETTER], "inspector") as subscription:
        records = await subscription.fetch(timeout_s=0)
    await runtime.bus.close()
    await runtime.close_database()
    letters = [ev.decode(r.value).data for r in records]
    return [letter for letter in letters if isinstance(letter, ev.DeadLettered)]


def runtime_for(tmp_path: Path, fake: FakeProvider, **settings: object) -> Runtime:
    return bootstrap(
        Settings(
            data_dir=tmp_path,
            telegram_api_base=fake.base_url,
            telegram_bots={"support": {"tenant": "acme", "secret_token": "s", "bot_token": TOKEN}},
            **settings,  # type: ignore[arg-type]
        ),
        bus=LocalBus(tmp_path / "bus.sqlite3"),
    )


async def test_a_reply_reaches_telegram_after_a_429_with_retry_after(tmp_path: Path) -> None:
    async with fake_provider() as fake:
        fake.replies = [(429, {"retry-after": "0"}), (502, {})]
        runtime = runtime_for(tmp_path, fake)
        await runtime.bus.start()
        await runtime.bus.publish(ev.OUTBOUND, "acme", reply("Ya está resuelto"))
        await runtime.bus.close()

        letters = await run_delivery(runtime, 3, fake)

    assert (
        fake.calls
        == [(f"bot{TOKEN}/sendMessage", {"chat_id": "1111111", "text": "Ya está resuelto"})] * 3
    )
    assert letters == []


async def test_a_refusal_or_exhausted_retries_go_to_the_dead_letters(tmp_path: Path) -> None:
    async with fake_provider() as fake:
        fake.replies = [(400, {}), (503, {}), (503, {})]
        runtime = runtime_for(tmp_path, fake, delivery_attempts=2)
        await runtime.bus.start()
        await runtime.bus.publish(ev.OUTBOUND, "acme", reply("first"))
        await runtime.bus.publish(ev.OUTBOUND, "acme", reply("second"))
        await runtime.bus.close()

        letters = await run_delivery(runtime, 3, fake)

    assert [letter.reason.split(":")[0] for letter in letters] == ["delivery failed"] * 2
    assert "telegram answered 400" in letters[0].reason
    assert "telegram answered 503" in letters[1].reason and "after 2 attempts" in letters[1].reason


async def test_a_message_asked_for_again_reaches_the_customer_once(tmp_path: Path) -> None:
    """A relay publishing its last batch again after a crash repeats events; an agent's
    reply the router decided twice (its command relayed twice) is one message id in two
    events. Providers do not drop repeats: the customer would read each one twice."""
    async with fake_provider() as fake:
        runtime = runtime_for(tmp_path, fake)
        answer, note = reply("Ya está resuelto", message_id="m1"), reply("Gracias por esperar")
        decided_again = reply("Ya está resuelto", message_id="m1")
        await runtime.bus.start()
        for envelope in (answer, note, answer, decided_again, note):
            await runtime.bus.publish(ev.OUTBOUND, "acme", envelope)
        await runtime.bus.close()

        letters = await run_delivery(runtime, 2, fake)

    assert [call["text"] for _, call in fake.calls] == ["Ya está resuelto", "Gracias por esperar"]
    assert letters == []


def delivery(channel: ev.Channel, provider: str, **fields: object) -> ev.Envelope:
    defaults: dict[str, object] = {
        "conversation_id": "c1",
        "recipient": "16505551234",
        "thread_key": "16505551234",
        "text": "Sí, viene en azul.",
    }
    data = ev.DeliverMessage.model_validate(
        {"channel": channel, "provider": provider, **defaults, **fields}
    )
    return ev.Envelope.wrap(data, tenant="acme", key="c1")


async def deliver_one(tmp_path: Path, envelope: ev.Envelope, **settings: object) -> None:
    runtime = bootstrap(
        Settings.model_validate({"data_dir": tmp_path, **settings}),
        bus=LocalBus(tmp_path / "b.sqlite3"),
    )
    assert isinstance(envelope.data, ev.DeliverMessage)
    await upgrade_async(runtime.settings.effective_database_url)
    async with httpx.AsyncClient() as client:
        await outbound.deliver(client, runtime, envelope, SENDERS)
    await runtime.close_database()


async def test_whatsapp_and_messenger_replies_leave_from_the_account_written_to(
    tmp_path: Path,
) -> None:
    async with fake_provider() as fake:
        settings = {"meta_graph_base": fake.base_url, "meta_access_token": "EAAG-token"}
        await deliver_one(
            tmp_path,
            delivery(ev.Channel.WHATSAPP, "meta", account_id="106540352242922"),
            **settings,
        )
        await deliver_one(
            tmp_path,
            delivery(ev.Channel.MESSENGER, "meta", account_id="PAGE_1", recipient="PSID_1"),
            **settings,
        )
    assert fake.calls == [
        (
            "106540352242922/messages",
            {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "16505551234",
                "type": "text",
                "text": {"body": "Sí, viene en azul."},
            },
        ),
        (
            "PAGE_1/messages",
            {
                "recipient": {"id": "PSID_1"},
                "messaging_type": "RESPONSE",
                "message": {"text": "Sí, viene en azul."},
            },
        ),
    ]


async def test_an_x_reply_is_a_direct_message_to_the_customer(tmp_path: Path) -> None:
    async with fake_provider() as fake:
        await deliver_one(
            tmp_path,
            delivery(ev.Channel.TWITTER, "twitter", recipient="3805104374"),
            twitter_api_base=fake.base_url,
            twitter_user_token="x-user-token",
        )
    assert fake.calls == [
        ("2/dm_conversations/with/3805104374/messages", {"text": "Sí, viene en azul."})
    ]


async def test_an_email_reply_is_threaded_for_the_customers_mail_client(tmp_path: Path) -> None:
    received: list[EmailMessage] = []

    class Inbox:
        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
            mail = message_from_bytes(envelope.content, policy=default)
            assert isinstance(mail, EmailMessage)
            received.append(mail)
            return "250 OK"

    port = free_port()
    smtp = Controller(Inbox(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        await deliver_one(
            tmp_path,
            delivery(
                ev.Channel.EMAIL,
                "postmark",
                recipient="carla@example.com",
                thread_key="<thread-root-1@mail.example.com>",
                reply_to_provider_message_id="<reply-2@mail.example.com>",
                account_id="help@acme.test",
                subject="Router not working",
                text="Please try the reset button for 10 seconds.",
            ),
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_starttls=False,
        )
    finally:
        smtp.stop()
    [mail] = received
    assert (mail["From"], mail["To"], mail["Subject"]) == (
        "help@acme.test",
        "carla@example.com",
        "Re: Router not working",
    )
    assert mail["In-Reply-To"] == "<reply-2@mail.example.com>"
    assert mail["References"] == "<thread-root-1@mail.example.com> <reply-2@mail.example.com>"
    assert mail.get_content().strip() == "Please try the reset button for 10 seconds."
