"""Meta: Messenger (object=page), Instagram (object=instagram) and the WhatsApp Cloud API
(object=whatsapp_business_account), all on /webhooks/meta.

GET answers Meta's subscription check (hub.mode, hub.verify_token, hub.challenge).
POST is signed: X-Hub-Signature-256 is `sha256=` and the hex HMAC-SHA256 of the raw
body with the app secret. One POST may carry several entries and messages; each
customer message becomes one MessageReceived; echoes of the business's own
messages, delivery and read receipts and WhatsApp statuses are acknowledged and
not routed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import structlog
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse

from services.channels.outbound import PermanentFailure
from services.channels.webhooks import (
    accept,
    hmac_sha256,
    missing,
    reject,
    same_secret,
    signed_body,
)
from shared.events import Attachment, Channel, Customer, DeliverMessage, Envelope, MessageReceived
from shared.runtime import Runtime, RuntimeDep

log = structlog.get_logger(__name__)
router = APIRouter(tags=["webhooks"])

PROVIDER = "meta"
_CHANNELS = {"page": Channel.MESSENGER, "instagram": Channel.INSTAGRAM}

# (account id the message was sent to, the message)
Received = tuple[str, MessageReceived]


@router.get("/webhooks/meta", response_class=PlainTextResponse)
async def verify_subscription(
    runtime: RuntimeDep,
    mode: str | None = Query(None, alias="hub.mode"),
    token: str | None = Query(None, alias="hub.verify_token"),
    challenge: str = Query("", alias="hub.challenge"),
) -> str:
    expected = runtime.settings.meta_verify_token
    if expected is None:
        raise missing("OMNIROUTE_META_VERIFY_TOKEN")
    if mode != "subscribe" or not same_secret(token, expected.get_secret_value()):
        raise reject(PROVIDER, 403, "hub.mode or hub.verify_token does not match")
    return challenge


@router.post("/webhooks/meta")
async def receive(request: Request, runtime: RuntimeDep) -> dict[str, int]:
    settings = runtime.settings
    body = await signed_body(
        request,
        provider=PROVIDER,
        secret=settings.meta_app_secret,
        setting="OMNIROUTE_META_APP_SECRET",
        header="x-hub-signature-256",
        sign=lambda key, data: "sha256=" + hmac_sha256(key, data).hex(),
        limit=settings.max_webhook_bytes,
    )
    try:
        payload = json.loads(body)
        received = list(parse(payload))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise HTTPException(400, f"not a Meta webhook payload: {error}") from None
    by_tenant: dict[str, list[MessageReceived]] = {}
    for account, message in received:
        tenant = settings.meta_accounts.get(account)
        if tenant is None and runtime.embedded:
            tenant = settings.demo_tenant
        if tenant is None:
            log.warning("meta.unknown_account", account=account)
            continue
        by_tenant.setdefault(tenant, []).append(message)
    accepted = [await accept(runtime, tenant, messages) for tenant, messages in by_tenant.items()]
    return {"accepted": sum(accepted)}


def parse(payload: dict[str, Any]) -> Iterator[Received]:
    """Customer messages in a Meta webhook payload, by the account they were sent to."""
    kind = payload["object"]
    for entry in payload.get("entry", []):
        if kind == "whatsapp_business_account":
            for change in entry.get("changes", []):
                if change.get("field") == "messages":
                    yield from _whatsapp(change["value"])
        elif kind in _CHANNELS:
            for event in entry.get("messaging", []):
                yield from _messaging(_CHANNELS[kind], event)


def _messaging(channel: Channel, event: dict[str, Any]) -> Iterator[Received]:
    message = event.get("message")
    if not message or message.get("is_echo"):
        return  # deliveries, reads, reactions; and the business's own messages
    sender = str(event["sender"]["id"])
    attachments = tuple(
        Attachment(
            name=item.get("type", "file"),
            content_type=item.get("type", "file"),
            url=(item.get("payload") or {}).get("url"),
        )
        for item in message.get("attachments", [])
    )
    account = str(event["recipient"]["id"])
    yield (
        account,
        MessageReceived(
            account_id=account,
            channel=channel,
            provider=PROVIDER,
            provider_message_id=message["mid"],
            thread_key=sender,
            customer=Customer(id=sender),
            text=message.get("text", ""),
            attachments=attachments,
        ),
    )


def _whatsapp(value: dict[str, Any]) -> Iterator[Received]:
    account = str(value["metadata"]["phone_number_id"])
    names = {
        contact["wa_id"]: contact.get("profile", {}).get("name")
        for contact in value.get("contacts", [])
    }
    for message in value.get("messages", []):  # "statuses" are receipts: not routed
        kind = message.get("type", "text")
        content = message.get(kind) if isinstance(message.get(kind), dict) else {}
        text = (
            message["text"]["body"]
            if kind == "text"
            else content.get("caption") or content.get("body") or ""
        )
        attachments = (
            (
                Attachment(
                    name=content.get("filename") or kind,
                    content_type=content.get("mime_type", kind),
                ),
            )
            if kind in ("image", "document", "audio", "video", "sticker")
            else ()
        )
        sender = str(message["from"])
        yield (
            account,
            MessageReceived(
                account_id=account,
                channel=Channel.WHATSAPP,
                provider=PROVIDER,
                provider_message_id=message["id"],
                thread_key=sender,
                customer=Customer(id=sender, name=names.get(sender), phone=sender),
                text=text,
                attachments=attachments,
            ),
        )


async def send(
    client: httpx.AsyncClient, runtime: Runtime, envelope: Envelope, message: DeliverMessage
) -> httpx.Response:
    """Send API (Messenger, Instagram) or Cloud API (WhatsApp) from the account written to."""
    settings = runtime.settings
    if settings.meta_access_token is None:
        raise PermanentFailure("OMNIROUTE_META_ACCESS_TOKEN is not set")
    if message.account_id is None:
        raise PermanentFailure("the conversation does not say which Meta account to send from")
    body: dict[str, Any] = (
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.recipient,
            "type": "text",
            "text": {"body": message.text},
        }
        if message.channel is Channel.WHATSAPP
        else {
            "recipient": {"id": message.recipient},
            "messaging_type": "RESPONSE",
            "message": {"text": message.text},
        }
    )
    return await client.post(
        f"{settings.meta_graph_base}/{message.account_id}/messages",
        json=body,
        headers={"authorization": f"Bearer {settings.meta_access_token.get_secret_value()}"},
    )
