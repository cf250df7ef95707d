"""Postmark inbound webhook (JSON): POST /webhooks/email/postmark, with basic auth."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request

from services.channels.email import InboundEmail, accept_email, check_basic_auth
from services.channels.webhooks import read_body
from shared.events import Attachment
from shared.runtime import RuntimeDep

router = APIRouter(tags=["webhooks"])

PROVIDER = "postmark"


@router.post("/webhooks/email/postmark")
async def receive(request: Request, runtime: RuntimeDep) -> dict[str, int]:
    settings = runtime.settings
    check_basic_auth(
        request, PROVIDER, "OMNIROUTE_POSTMARK_BASIC_AUTH", settings.postmark_basic_auth
    )
    body = await read_body(request, settings.max_email_bytes)
    try:
        inbound = json.loads(body)
        headers = {h["Name"].lower(): h["Value"] for h in inbound.get("Headers", [])}
        sender = inbound["FromFull"]
        email = InboundEmail(
            provider=PROVIDER,
            # The RFC Message-ID threads replies; Postmark's own MessageID only if it is absent.
            message_id=headers.get("message-id") or f"<{inbound['MessageID']}@postmark>",
            sender=sender["Email"].lower(),
            sender_name=sender.get("Name") or None,
            recipients=tuple(
                r["Email"].lower() for r in [*inbound.get("ToFull", []), *inbound.get("CcFull", [])]
            )
            + ((inbound["OriginalRecipient"].lower(),) if inbound.get("OriginalRecipient") else ()),
            subject=inbound.get("Subject", ""),
            text=inbound.get("TextBody", ""),
            in_reply_to=headers.get("in-reply-to"),
            references=headers.get("references"),
            attachments=tuple(
                Attachment(
                    name=item["Name"],
                    content_type=item.get("ContentType", "application/octet-stream"),
                    size_bytes=item.get("ContentLength"),
                )
                for item in inbound.get("Attachments", [])
            ),
        )
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise HTTPException(400, f"not a Postmark inbound message: {error}") from None
    return await accept_email(runtime, email)
