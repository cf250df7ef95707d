"""Mailgun inbound routes, fully parsed: POST /webhooks/email/mailgun.

Signed as Mailgun documents for webhooks: `signature` is the hex HMAC-SHA256 of
`timestamp` + `token` with the webhook signing key; a timestamp older than five
minutes is refused (a replayed request).
"""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, HTTPException, Request

from services.channels.email import (
    InboundEmail,
    accept_email,
    addresses,
    check_length,
    form_attachments,
    sender,
)
from services.channels.webhooks import hmac_sha256, missing, reject, same_secret
from shared.runtime import RuntimeDep

router = APIRouter(tags=["webhooks"])

PROVIDER = "mailgun"
MAX_AGE_S = 300


@router.post("/webhooks/email/mailgun")
async def receive(request: Request, runtime: RuntimeDep) -> dict[str, int]:
    key = runtime.settings.mailgun_signing_key
    if key is None:
        raise missing("OMNIROUTE_MAILGUN_SIGNING_KEY")
    check_length(request, runtime.settings.max_email_bytes)
    async with request.form() as form:  # closes uploaded files when done
        timestamp, token = str(form.get("timestamp", "")), str(form.get("token", ""))
        expected = hmac_sha256(key.get_secret_value(), (timestamp + token).encode()).hex()
        if not same_secret(str(form.get("signature", "")), expected):
            raise reject(PROVIDER, 401, "the signature does not match timestamp and token")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_AGE_S:
            raise reject(PROVIDER, 401, "the timestamp is more than 5 minutes old")
        try:
            headers = {
                name.lower(): value for name, value in json.loads(str(form["message-headers"]))
            }
            address, name = sender(str(form["from"]))
            email = InboundEmail(
                provider=PROVIDER,
                message_id=headers["message-id"],
                sender=address,
                sender_name=name,
                recipients=addresses(str(form.get("recipient", "")), headers.get("to")),
                subject=str(form.get("subject", "")),
                text=str(form.get("body-plain", "")),
                in_reply_to=headers.get("in-reply-to"),
                references=headers.get("references"),
                attachments=form_attachments(form),
            )
        except (KeyError, ValueError, TypeError) as error:
            raise HTTPException(400, f"not a Mailgun parsed message: {error}") from None
    return await accept_email(runtime, email)
