"""X (Twitter) Account Activity API: /webhooks/twitter.

GET answers the Challenge-Response Check: `crc_token` signed with the consumer
secret, as {"response_token": "sha256=<base64 HMAC-SHA256>"}. POST is signed the
same way over the raw body in `x-twitter-webhooks-signature`. Direct messages
(`direct_message_events` of type `message_create`) become MessageReceived,
threaded by the customer's user id; those the subscribed account sent itself
(sender_id == for_user_id) are not routed, nor are other activity events.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi import APIRouter, HTTPException, Query, Request

from services.channels.outbound import PermanentFailure
from services.channels.webhooks import (
    accept,
    hmac_sha256,
    missing,
    signed_body,
)
from shared.events import Attachment, Channel, Customer, DeliverMessage, Envelope, MessageReceived
from shared.runtime import Runtime, RuntimeDep

router = APIRouter(tags=["webhooks"])

PROVIDER = "twitter"


def signature(secret: str, data: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac_sha256(secret, data)).decode()


@router.get("/webhooks/twitter")
async def challenge(runtime: RuntimeDep, crc_token: str = Query(min_length=1)) -> dict[str, str]:
    secret = runtime.settings.twitter_consumer_secret
    if secret is None:
        raise missing("OMNIROUTE_TWITTER_CONSUMER_SECRET")
    return {"response_token": signature(secret.get_secret_value(), crc_token.encode())}


@router.post("/webhooks/twitter")
async def receive(request: Request, runtime: RuntimeDep) -> dict[str, int]:
    settings = runtime.settings
    body = await signed_body(
        request,
        provider=PROVIDER,
        secret=settings.twitter_consumer_secret,
        setting="OMNIROUTE_TWITTER_CONSUMER_SECRET",
        header="x-twitter-webhooks-signature",
        sign=signature,
        limit=settings.max_webhook_bytes,
    )
    try:
        payload = json.loads(body)
        account = str(payload["for_user_id"])
        messages = list(parse(payload))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise HTTPException(400, f"not an Account Activity payload: {error}") from None
    tenant = settings.twitter_accounts.get(account) or (
        settings.demo_tenant if runtime.embedded else None
    )
    if tenant is None or not messages:
        return {"accepted": 0}
    return {"accepted": await accept(runtime, tenant, messages)}


def parse(payload: dict[str, Any]) -> Iterator[MessageReceived]:
    account = str(payload["for_user_id"])
    users = payload.get("users", {})
    for event in payload.get("direct_message_events", []):
        if event.get("type") != "message_create":
            continue
        create = event["message_create"]
        sender = str(create["sender_id"])
        if sender == account:
            continue  # the desk's own reply, echoed back
        data = create.get("message_data", {})
        user = users.get(sender, {})
        media = (data.get("attachment") or {}).get("media")
        yield MessageReceived(
            account_id=account,
            channel=Channel.TWITTER,
            provider=PROVIDER,
            provider_message_id=str(event["id"]),
            thread_key=sender,
            customer=Customer(id=sender, name=user.get("name"), handle=user.get("screen_name")),
            text=data.get("text", ""),
            attachments=(
                (
                    Attachment(
                        name=media.get("type", "media"),
                        content_type=media.get("type", "media"),
                        url=media.get("media_url_https"),
                    ),
                )
                if isinstance(media, dict)
                else ()
            ),
        )


async def send(
    client: httpx.AsyncClient, runtime: Runtime, envelope: Envelope, message: DeliverMessage
) -> httpx.Response:
    """A direct message to the customer (X API v2, one-to-one conversation)."""
    settings = runtime.settings
    if settings.twitter_user_token is None:
        raise PermanentFailure("OMNIROUTE_TWITTER_USER_TOKEN is not set")
    return await client.post(
        f"{settings.twitter_api_base}/2/dm_conversations/with/{message.recipient}/messages",
        json={"text": message.text},
        headers={"authorization": f"Bearer {settings.twitter_user_token.get_secret_value()}"},
    )
