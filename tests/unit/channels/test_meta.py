"""/webhooks/meta as Meta calls it: subscription check, signatures, batches, receipts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from services.channels.webhooks import hmac_sha256
from shared.events import Channel
from tests.unit.channels.conftest import (
    APP_SECRET,
    FIXTURES,
    VERIFY_TOKEN,
    Channels,
    channels_app,
    desk_settings,
)


def fixture(name: str) -> dict[str, Any]:
    """A payload as the provider documents it (see its `_source`)."""
    payload: dict[str, Any] = json.loads((FIXTURES / name).read_text())["payload"]
    return payload


async def post(
    channels: Channels, payload: dict[str, Any], *, secret: str = APP_SECRET
) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await channels.client.post(
        "/webhooks/meta",
        content=body,
        headers={
            "content-type": "application/json",
            "x-hub-signature-256": "sha256=" + hmac_sha256(secret, body).hex(),
        },
    )


def messenger(
    *events: dict[str, Any], kind: str = "page", account: str = "PAGE_1"
) -> dict[str, Any]:
    return {
        "object": kind,
        "entry": [{"id": account, "time": 1458692752478, "messaging": list(events)}],
    }


def text_event(
    mid: str, text: str, sender: str = "PSID_1", account: str = "PAGE_1"
) -> dict[str, Any]:
    return {
        "sender": {"id": sender},
        "recipient": {"id": account},
        "timestamp": 1458692752478,
        "message": {"mid": mid, "text": text},
    }


async def test_the_subscription_check_echoes_the_challenge_only_with_the_right_token(
    channels: Channels,
) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    ok = await channels.client.get("/webhooks/meta", params=params)
    assert (ok.status_code, ok.text, ok.headers["content-type"]) == (
        200,
        "1158201444",
        "text/plain; charset=utf-8",
    )
    wrong = await channels.client.get("/webhooks/meta", params={**params, "hub.verify_token": "x"})
    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_a_wrong_or_missing_signature_is_refused_and_nothing_is_stored(
    channels: Channels,
) -> None:
    payload = messenger(text_event("mid.1", "hello"))
    assert (await post(channels, payload, secret="not-the-secret")).status_code == 401
    unsigned = await channels.client.post("/webhooks/meta", json=payload)
    assert unsigned.status_code == 401
    assert await channels.inbound() == []


async def test_each_customer_message_of_a_batch_becomes_one_event_and_receipts_are_not_routed(
    channels: Channels,
) -> None:
    response = await post(channels, fixture("meta_messenger_batch.json"))

    assert response.status_code == 200 and response.json() == {"accepted": 2}
    inbound = await channels.inbound()
    assert [e.tenant for e in inbound] == ["acme", "acme"]
    first, second = await channels.messages()
    assert (first.channel, first.provider_message_id, first.thread_key, first.text) == (
        Channel.MESSENGER,
        "mid.1",
        "PSID_1",
        "hello",
    )
    assert (second.text, second.account_id) == ("anyone?", "PAGE_1")


async def test_instagram_messages_come_in_on_the_same_webhook(channels: Channels) -> None:
    await post(channels, fixture("meta_instagram.json"))
    [message] = await channels.messages()
    assert (message.channel, message.text, message.account_id) == (
        Channel.INSTAGRAM,
        "hola",
        "IG_1",
    )


async def test_whatsapp_messages_with_contact_names_and_media_and_no_statuses(
    channels: Channels,
) -> None:
    response = await post(channels, fixture("meta_whatsapp.json"))

    assert response.json() == {"accepted": 2}
    inbound = await channels.inbound()
    assert {e.tenant for e in inbound} == {"globex"}
    text, image = await channels.messages()
    assert (text.channel, text.customer.name, text.customer.phone, text.text) == (
        Channel.WHATSAPP,
        "Sheena Nelson",
        "16505551234",
        "Does it come in another color?",
    )
    assert image.text == "this one"
    assert [(a.name, a.content_type) for a in image.attachments] == [("image", "image/jpeg")]


async def test_a_body_too_large_or_not_a_meta_payload_gets_a_clear_4xx(channels: Channels) -> None:
    big = messenger(text_event("mid.big", "x" * 70_000))
    assert (await post(channels, big)).status_code == 413
    broken = await post(channels, {"entry": []})
    assert broken.status_code == 400
    assert "not a Meta webhook payload" in broken.json()["detail"]


async def test_a_redelivery_is_accepted_once_even_across_a_restart(tmp_path: Path) -> None:
    settings = desk_settings(tmp_path)
    payload = messenger(text_event("mid.7", "hello"))
    async with channels_app(settings) as first:
        assert (await post(first, payload)).json() == {"accepted": 1}
        assert (await post(first, payload)).json() == {"accepted": 0}
    async with channels_app(settings) as restarted:
        assert (await post(restarted, payload)).json() == {"accepted": 0}
        assert len(await restarted.messages()) == 1


async def test_every_message_carries_a_language_hint(channels: Channels) -> None:
    await post(
        channels,
        messenger(
            text_event("m.es", "Hola, ¿dónde está mi pedido?"),
            text_event("m.en", "Hi, where is it?"),
        ),
    )
    assert [m.language_hint for m in await channels.messages()] == ["es", "en"]


async def test_in_the_embedded_mode_every_page_is_the_demo_tenants(tmp_path: Path) -> None:
    async with channels_app(desk_settings(tmp_path, meta_accounts={}), embedded=True) as app:
        await post(
            app, messenger(text_event("mid.1", "hello", account="ANY_PAGE"), account="ANY_PAGE")
        )
        assert [e.tenant for e in await app.inbound()] == ["demo"]


async def test_without_its_secret_the_endpoint_is_closed_and_says_which_setting(
    tmp_path: Path,
) -> None:
    async with channels_app(
        desk_settings(tmp_path, meta_app_secret=None, meta_verify_token=None)
    ) as app:
        closed = await post(app, messenger(text_event("mid.1", "hello")))
        check = await app.client.get("/webhooks/meta", params={"hub.mode": "subscribe"})
    assert (closed.status_code, check.status_code) == (503, 503)
    assert "OMNIROUTE_META_APP_SECRET is not set" in closed.json()["detail"]
    assert "OMNIROUTE_META_VERIFY_TOKEN is not set" in check.json()["detail"]


async def test_refused_signatures_are_counted_in_metrics(channels: Channels) -> None:
    await post(channels, messenger(text_event("mid.1", "hello")), secret="wrong")
    metrics = (await channels.client.get("/metrics")).text
    assert 'omniroute_webhook_rejected_total{provider="meta"}' in metrics
