"""A tenant's external bot: omniroute posts each customer message of a conversation the
bot holds to the bot's URL, signed, and the bot answers through the API
(POST /v1/bot/conversations/{id}/reply, /escalate, /resolve) with a `bot` key.

The request: JSON body; `X-Omniroute-Timestamp` (Unix seconds) and
`X-Omniroute-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the
bot's secret>`. A bot checks the signature in constant time and refuses stale
timestamps. A bot that answers the POST with an error, cannot be reached, or does not
answer through the API within its timeout hands the conversation to a person.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import datetime

import httpx

from shared.db.models import BotThread
from shared.events import MessageAppended


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str
    timeout_s: float


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def message_event(thread: BotThread, message: MessageAppended, at: datetime) -> dict[str, object]:
    return {
        "type": "message",
        "tenant": thread.tenant,
        "conversation_id": thread.conversation_id,
        "language": thread.language,
        # What the router found in the message that brought the conversation to the bot.
        "intents": json.loads(thread.intents),
        "text": message.text,
        "at": at.isoformat(),
        "transcript": json.loads(thread.transcript),
    }


async def deliver(webhook: Webhook, payload: dict[str, object]) -> str | None:
    """Post the event; the reason it failed, or None."""
    body = json.dumps(payload).encode()
    timestamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "x-omniroute-timestamp": timestamp,
        "x-omniroute-signature": signature(webhook.secret, timestamp, body),
    }
    try:
        async with httpx.AsyncClient(timeout=webhook.timeout_s) as client:
            response = await client.post(webhook.url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return f"{type(error).__name__} posting to the bot"
    if response.is_error:
        return f"the bot answered {response.status_code}"
    return None
