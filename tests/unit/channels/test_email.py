"""The email webhooks, fed the payloads in tests/fixtures/providers/."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx

from shared import events as ev
from tests.unit.channels.conftest import (
    FIXTURES,
    MAILGUN_KEY,
    MIME_TOKEN,
    Channels,
    channels_app,
    desk_settings,
)
from tests.unit.router.desk import Desk, only


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return loaded


def basic(credentials: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def mailgun_signed(
    fields: dict[str, str], *, age_s: int = 0, key: str = MAILGUN_KEY
) -> dict[str, str]:
    timestamp, token = str(int(time.time()) - age_s), "a" * 50
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {**fields, "timestamp": timestamp, "token": token, "signature": signature}


async def mime(channels: Channels, name: str, token: str = MIME_TOKEN) -> httpx.Response:
    return await channels.client.post(
        "/webhooks/email/mime",
        content=(FIXTURES / name).read_bytes(),
        headers={"authorization": f"Bearer {token}", "content-type": "message/rfc822"},
    )


async def test_postmark_with_basic_auth_strips_the_quoted_history_and_keeps_threading(
    channels: Channels,
) -> None:
    payload = fixture("postmark_inbound.json")["payload"]
    refused = await channels.client.post(
        "/webhooks/email/postmark", json=payload, headers=basic("postmark:nope")
    )
    assert refused.status_code == 401

    response = await channels.client.post(
        "/webhooks/email/postmark", json=payload, headers=basic("postmark:pm-pass")
    )

    assert response.json() == {"accepted": 1}
    [message] = await channels.messages()
    assert message.text == "Sigo sin recibir el pedido, ¿qué pasa?"
    assert (message.channel, message.subject, message.language_hint) == (
        ev.Channel.EMAIL,
        "Re: Pedido 44120",
        "es",
    )
    assert message.provider_message_id == "<CAE6oUtPz8s=reply@mail.example.com>"
    assert (message.thread_key, message.references) == (
        "<first-44120@mail.example.com>",
        ("<first-44120@mail.example.com>",),
    )
    assert [(a.name, a.content_type, a.size_bytes) for a in message.attachments] == [
        ("albaran.pdf", "application/pdf", 9)
    ]


async def test_mailgun_signed_form_with_an_attachment(channels: Channels) -> None:
    fields = fixture("mailgun_parsed.json")["fields"]
    response = await channels.client.post(
        "/webhooks/email/mailgun",
        data=mailgun_signed(fields),
        files={"attachment-1": ("statement.pdf", b"%PDF-1.4 statement", "application/pdf")},
    )

    assert response.json() == {"accepted": 1}
    [message] = await channels.messages()
    assert message.text == "Hi, I was charged twice for order 5512. Please refund one."
    assert (message.customer.id, message.customer.name) == ("bob@example.com", "Bob Stone")
    assert [(a.name, a.size_bytes) for a in message.attachments] == [("statement.pdf", 18)]


async def test_mailgun_refuses_a_bad_signature_and_a_stale_timestamp(channels: Channels) -> None:
    fields = fixture("mailgun_parsed.json")["fields"]
    bad = await channels.client.post(
        "/webhooks/email/mailgun", data=mailgun_signed(fields, key="other")
    )
    stale = await channels.client.post(
        "/webhooks/email/mailgun", data=mailgun_signed(fields, age_s=301)
    )
    assert (bad.status_code, stale.status_code) == (401, 401)
    assert "5 minutes" in stale.json()["detail"]
    assert await channels.inbound() == []


async def test_sendgrid_inbound_parse_form_with_basic_auth(channels: Channels) -> None:
    fields = fixture("sendgrid_parse.json")["fields"]
    response = await channels.client.post(
        "/webhooks/email/sendgrid",
        files={k: (None, v) for k, v in fields.items()},
        headers=basic("sendgrid:sg-pass"),
    )
    assert response.json() == {"accepted": 1}
    [message] = await channels.messages()
    assert (message.provider_message_id, message.text, message.thread_key) == (
        "<CAN5-factura@mail.example.com>",
        "Hola, ¿me podéis enviar la factura de octubre? Gracias",
        "<CAN5-factura@mail.example.com>",
    )


async def test_a_mime_reply_joins_the_conversation_of_its_thread(channels: Channels) -> None:
    assert (await mime(channels, "mime_first.eml", token="wrong")).status_code == 401
    assert (await mime(channels, "mime_first.eml")).json() == {"accepted": 1}
    assert (await mime(channels, "mime_reply.eml")).json() == {"accepted": 1}
    first, reply = await channels.messages()

    assert reply.text == "I restarted it as you said and it still does not work."
    assert [(a.name, a.content_type) for a in reply.attachments] == [("lights.png", "image/png")]
    desk = Desk()
    desk.queue("general")
    desk.rules()
    opened = only(desk.send(first), ev.ConversationOpened).conversation_id
    out = desk.send(reply)
    assert only(out, ev.MessageAppended).conversation_id == opened
    assert not [o for o in out if isinstance(o.data, ev.ConversationOpened)]


async def test_email_bodies_over_the_limit_get_413(tmp_path: Path) -> None:
    async with channels_app(desk_settings(tmp_path, max_email_bytes=2048)) as app:
        big = b"From: a@example.com\nMessage-ID: <x@y>\n\n" + b"x" * 4096
        response = await app.client.post(
            "/webhooks/email/mime", content=big, headers={"authorization": f"Bearer {MIME_TOKEN}"}
        )
    assert response.status_code == 413


async def test_mail_for_an_address_no_tenant_receives_is_refused(channels: Channels) -> None:
    payload = fixture("postmark_inbound.json")["payload"]
    elsewhere = {
        **payload,
        "ToFull": [{"Email": "sales@other.test", "Name": ""}],
        "OriginalRecipient": "",
    }
    response = await channels.client.post(
        "/webhooks/email/postmark", json=elsewhere, headers=basic("postmark:pm-pass")
    )
    assert response.status_code == 404
