"""A raw RFC 5322 message, e.g. piped by an MTA: POST /webhooks/email/mime, bearer token."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from fastapi import APIRouter, HTTPException, Request

from services.channels.email import InboundEmail, accept_email, addresses, sender
from services.channels.webhooks import missing, read_body, reject, same_secret
from shared.events import Attachment
from shared.runtime import RuntimeDep

router = APIRouter(tags=["webhooks"])

PROVIDER = "mime"


@router.post("/webhooks/email/mime")
async def receive(request: Request, runtime: RuntimeDep) -> dict[str, int]:
    settings = runtime.settings
    token = settings.email_mime_token
    if token is None:
        raise missing("OMNIROUTE_EMAIL_MIME_TOKEN")
    given = request.headers.get("authorization", "")
    if not same_secret(given, f"Bearer {token.get_secret_value()}"):
        raise reject(PROVIDER, 401, "the bearer token does not match")
    body = await read_body(request, settings.max_email_bytes)
    message = message_from_bytes(body, policy=default)
    if not isinstance(message, EmailMessage) or not message["Message-ID"] or not message["From"]:
        raise HTTPException(400, "not an RFC 5322 message with Message-ID and From")
    address, name = sender(str(message["From"]))
    email = InboundEmail(
        provider=PROVIDER,
        message_id=str(message["Message-ID"]).strip(),
        sender=address,
        sender_name=name,
        recipients=addresses(
            message.get("Delivered-To"),
            message.get("X-Original-To"),
            message.get("To"),
            message.get("Cc"),
        ),
        subject=str(message.get("Subject", "")),
        text=_text(message),
        in_reply_to=message.get("In-Reply-To"),
        references=message.get("References"),
        attachments=tuple(
            Attachment(
                name=part.get_filename() or "attachment",
                content_type=part.get_content_type(),
                size_bytes=len(part.get_payload(decode=True) or b""),
            )
            for part in message.iter_attachments()
        ),
    )
    return await accept_email(runtime, email)


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = str(part.get_content())
    if part.get_content_type() == "text/html":
        content = re.sub(r"<[^>]+>", " ", content)  # enough to route on; agents see the text
    return content
