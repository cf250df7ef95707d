"""/webhooks/twitter as the X Account Activity API calls it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx

from shared.events import Channel
from tests.unit.channels.conftest import FIXTURES, TWITTER_SECRET, Channels

ACCOUNT = "4337869213"


def signed(data: bytes, secret: str = TWITTER_SECRET) -> str:
    return (
        "sha256="
        + base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()
    )


async def post(
    channels: Channels, payload: dict[str, Any], secret: str = TWITTER_SECRET
) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await channels.client.post(
        "/webhooks/twitter",
        content=body,
        headers={"x-twitter-webhooks-signature": signed(body, secret)},
    )


def dm(event_id: str, sender: str, text: str) -> dict[str, Any]:
    return {
        "type": "message_create",
        "id": event_id,
        "created_timestamp": "1392078023603",
        "message_create": {
            "target": {"recipient_id": ACCOUNT if sender != ACCOUNT else "3805104374"},
            "sender_id": sender,
            "source_app_id": "268278",
            "message_data": {
                "text": text,
                "entities": {"hashtags": [], "symbols": [], "urls": [], "user_mentions": []},
            },
        },
    }


async def test_the_crc_check_answers_the_signed_token(channels: Channels) -> None:
    response = await channels.client.get("/webhooks/twitter", params={"crc_token": "challenge-123"})
    assert response.json() == {"response_token": signed(b"challenge-123")}


async def test_customer_dms_are_routed_and_the_accounts_own_are_not(channels: Channels) -> None:
    documented = json.loads((FIXTURES / "x_direct_messages.json").read_text())["payload"]
    response = await post(channels, documented)

    assert response.json() == {"accepted": 1}
    [message] = await channels.messages()
    assert (message.channel, message.thread_key, message.text, message.customer.handle) == (
        Channel.TWITTER,
        "3805104374",
        "my order is late",
        "joe",
    )


async def test_a_bad_signature_is_refused_and_other_activity_is_ignored(channels: Channels) -> None:
    payload = {"for_user_id": ACCOUNT, "direct_message_events": [dm("1", "3805104374", "hi")]}
    assert (await post(channels, payload, secret="wrong")).status_code == 401
    likes = {"for_user_id": ACCOUNT, "favorite_events": [{"id": "x"}]}
    assert (await post(channels, likes)).json() == {"accepted": 0}
    assert await channels.inbound() == []
