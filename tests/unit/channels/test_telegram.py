"""/webhooks/telegram/{bot_id} as Telegram calls it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from services.channels.app import create_app
from shared.config import Settings
from shared.db.migrate import upgrade_async
from shared.events import Channel
from shared.runtime import bootstrap
from tests.asgi import serve
from tests.processes import free_port
from tests.unit.channels.conftest import (
    FIXTURES,
    TELEGRAM_SECRET,
    Channels,
    channels_app,
    desk_settings,
)


async def post(
    channels: Channels,
    update: dict[str, Any],
    *,
    bot: str = "support",
    secret: str = TELEGRAM_SECRET,
) -> httpx.Response:
    return await channels.client.post(
        f"/webhooks/telegram/{bot}",
        json=update,
        headers={"x-telegram-bot-api-secret-token": secret},
    )


def update(**message: Any) -> dict[str, Any]:
    """The documented update (tests/fixtures/providers/telegram_update.json), changed as given."""
    documented = json.loads((FIXTURES / "telegram_update.json").read_text())["payload"]
    return {**documented, "message": {**documented["message"], **message}}


async def test_a_message_becomes_an_event_threaded_by_chat(channels: Channels) -> None:
    response = await post(channels, update(text="¿Dónde está mi pedido?"))

    assert response.json() == {"accepted": 1}
    [message] = await channels.messages()
    assert (message.channel, message.thread_key, message.provider_message_id) == (
        Channel.TELEGRAM,
        "1111111",
        "1111111:1365",
    )
    assert (message.customer.name, message.customer.handle, message.language_hint) == (
        "Lucía Gómez",
        "lucia",
        "es",
    )


async def test_half_an_emoji_arrives_as_a_replacement_character(channels: Channels) -> None:
    # A sender that cut its text by UTF-16 units leaves the first half of a pair, which
    # JSON carries as an escape ("\\ud83d") and no UTF-8 encoder takes: the webhook
    # answered 503 to every retry until Telegram gave the message up.
    body = json.dumps(update(text="gracias \ud83d")).encode()
    assert b"\\ud83d" in body

    response = await channels.client.post(
        "/webhooks/telegram/support",
        content=body,
        headers={"x-telegram-bot-api-secret-token": TELEGRAM_SECRET},
    )

    assert response.json() == {"accepted": 1}
    [message] = await channels.messages()
    assert message.text == "gracias \ufffd"


async def test_an_edit_is_routed_as_a_new_message_with_the_new_text(channels: Channels) -> None:
    edited = update(text="fixed text", edit_date=1441645600)
    edited["edited_message"] = edited.pop("message")
    await post(channels, edited)
    [message] = await channels.messages()
    assert (message.text, message.provider_message_id) == (
        "fixed text",
        "1111111:1365:edit:1441645600",
    )


async def test_attachments_are_kept_as_metadata_with_the_caption_as_text(
    channels: Channels,
) -> None:
    await post(
        channels,
        update(
            text=None,
            caption="the receipt",
            document={
                "file_id": "f1",
                "file_name": "receipt.pdf",
                "mime_type": "application/pdf",
                "file_size": 48213,
            },
            photo=[{"file_id": "p1", "file_size": 1000}, {"file_id": "p2", "file_size": 90000}],
        ),
    )
    [message] = await channels.messages()
    assert message.text == "the receipt"
    assert [(a.name, a.content_type, a.size_bytes) for a in message.attachments] == [
        ("receipt.pdf", "application/pdf", 48213),
        ("photo", "image/jpeg", 90000),
    ]


async def test_a_wrong_secret_or_unknown_bot_is_refused(channels: Channels) -> None:
    assert (await post(channels, update(text="hi"), secret="guess")).status_code == 403
    assert (await post(channels, update(text="hi"), bot="other")).status_code == 404
    assert await channels.inbound() == []


async def test_other_updates_are_acknowledged_and_not_routed(channels: Channels) -> None:
    response = await post(channels, {"update_id": 1, "callback_query": {"id": "q"}})
    assert (response.status_code, response.json()) == (200, {"accepted": 0})
    assert await channels.inbound() == []


async def test_while_the_bus_is_down_the_webhook_answers_503_so_telegram_retries(
    tmp_path: Path,
) -> None:
    settings = Settings(
        bus="kafka",
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        data_dir=tmp_path,
        telegram_bots={"support": {"tenant": "acme", "secret_token": TELEGRAM_SECRET}},
    )
    await upgrade_async(settings.effective_database_url)
    async with serve(create_app(bootstrap(settings))) as client:
        response = await client.post(
            "/webhooks/telegram/support",
            json=update(text="hi"),
            headers={"x-telegram-bot-api-secret-token": TELEGRAM_SECRET},
        )
    assert response.status_code == 503
    assert response.json()["detail"] == "messages could not be stored; please retry"


async def test_in_the_embedded_mode_the_demo_bot_uses_the_telegram_secret_setting(
    tmp_path: Path,
) -> None:
    settings = desk_settings(tmp_path, telegram_bots={}, telegram_secret_token="demo-secret")
    async with channels_app(settings, embedded=True) as app:
        ok = await post(app, update(text="hola"), bot="demo", secret="demo-secret")
        assert ok.json() == {"accepted": 1}
        assert [e.tenant for e in await app.inbound()] == ["demo"]
    unset = desk_settings(tmp_path, telegram_bots={}, telegram_secret_token=None)
    async with channels_app(unset, embedded=True) as app:
        closed = await post(app, update(text="hola"), bot="demo", secret="x")
    assert closed.status_code == 503
    assert "OMNIROUTE_TELEGRAM_SECRET_TOKEN" in closed.json()["detail"]


async def test_a_retry_after_the_bus_is_back_goes_through(channels: Channels) -> None:
    await channels.bus.close()  # the event log goes away
    down = await post(channels, update(text="are you there?"))
    await channels.bus.start()  # and comes back; Telegram retries the same update
    retried = await post(channels, update(text="are you there?"))

    assert (down.status_code, retried.status_code) == (503, 200)
    assert retried.json() == {"accepted": 1}
    assert [m.text for m in await channels.messages()] == ["are you there?"]
