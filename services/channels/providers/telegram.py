"""Telegram Bot API: POST /webhooks/telegram/{bot_id}.

The bot's webhook is set with a secret_token, which Telegram sends back in
X-Telegram-Bot-Api-Secret-Token on every update. `message` and `edited_message`
updates are routed (an edit under its own id, so the agent sees the new text);
the thread is the chat id. Other update kinds are acknowledged and ignored.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import APIRouter, HTTPException, Request

from services.channels.outbound import PermanentFailure
from services.channels.webhooks import accept, missing, read_body, reject, same_secret
from shared.config import TelegramBot
from shared.events import Attachment, Channel, Customer, DeliverMessage, Envelope, MessageReceived
from shared.runtime import Runtime, RuntimeDep

router = APIRouter(tags=["webhooks"])

PROVIDER = "telegram"
_FILES = ("document", "audio", "video", "voice", "animation", "sticker")


@router.post("/webhooks/telegram/{bot_id}")
async def receive(bot_id: str, request: Request, runtime: RuntimeDep) -> dict[str, int]:
    bot = _bot(runtime, bot_id)
    token = request.headers.get("x-telegram-bot-api-secret-token")
    if not same_secret(token, bot.secret_token.get_secret_value()):
        raise reject(PROVIDER, 403, "X-Telegram-Bot-Api-Secret-Token does not match")
    body = await read_body(request, runtime.settings.max_webhook_bytes)
    try:
        message = parse(json.loads(body), bot_id)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise HTTPException(400, f"not a Telegram update: {error}") from None
    if message is None:
        return {"accepted": 0}
    return {"accepted": await accept(runtime, bot.tenant, [message])}


async def send(
    client: httpx.AsyncClient, runtime: Runtime, envelope: Envelope, message: DeliverMessage
) -> httpx.Response:
    """sendMessage to the chat of the conversation, with the tenant's bot."""
    token = _bot_token(runtime, envelope.tenant, message.account_id)
    return await client.post(
        f"{runtime.settings.telegram_api_base}/bot{token}/sendMessage",
        json={"chat_id": message.thread_key, "text": message.text},
    )


def _bot_token(runtime: Runtime, tenant: str, bot_id: str | None) -> str:
    """The token of the bot the customer wrote to, else any of the tenant's bots."""
    settings = runtime.settings
    bots = settings.telegram_bots
    own = [bots[bot_id].bot_token] if bot_id in bots and bots[bot_id].tenant == tenant else []
    tokens = own + [b.bot_token for b in bots.values() if b.tenant == tenant]
    if runtime.embedded and tenant == settings.demo_tenant:
        tokens.append(settings.telegram_bot_token)
    token = next((t for t in tokens if t is not None), None)
    if token is None:
        raise PermanentFailure(f"no Telegram bot token for tenant {tenant!r}")
    return token.get_secret_value()


def _bot(runtime: Runtime, bot_id: str) -> TelegramBot:
    settings = runtime.settings
    if bot := settings.telegram_bots.get(bot_id):
        return bot
    if runtime.embedded and bot_id == "demo":
        if settings.telegram_secret_token is None:
            raise missing("OMNIROUTE_TELEGRAM_SECRET_TOKEN")
        return TelegramBot(tenant=settings.demo_tenant, secret_token=settings.telegram_secret_token)
    raise HTTPException(404, f"no Telegram bot {bot_id!r} is configured")


def parse(update: dict[str, Any], bot_id: str) -> MessageReceived | None:
    edited = "edited_message" in update
    message = update.get("edited_message") if edited else update.get("message")
    if not message:
        return None
    sender = message.get("from", {})
    chat_id = str(message["chat"]["id"])
    attachments = [
        Attachment(
            name=item.get("file_name") or kind,
            content_type=item.get("mime_type") or kind,
            size_bytes=item.get("file_size"),
        )
        for kind in _FILES
        if isinstance(item := message.get(kind), dict)
    ]
    if message.get("photo"):  # sizes of one photo: keep the largest
        largest = max(message["photo"], key=lambda size: size.get("file_size") or 0)
        attachments.append(
            Attachment(name="photo", content_type="image/jpeg", size_bytes=largest.get("file_size"))
        )
    name = " ".join(filter(None, (sender.get("first_name"), sender.get("last_name")))) or None
    message_id = f"{chat_id}:{message['message_id']}"
    return MessageReceived(
        account_id=bot_id,
        channel=Channel.TELEGRAM,
        provider=PROVIDER,
        provider_message_id=f"{message_id}:edit:{message['edit_date']}" if edited else message_id,
        thread_key=chat_id,
        customer=Customer(
            id=str(sender.get("id", chat_id)), name=name, handle=sender.get("username")
        ),
        text=message.get("text") or message.get("caption") or "",
        attachments=tuple(attachments),
        language_hint=sender.get("language_code"),  # the app's language; checked on acceptance
    )
