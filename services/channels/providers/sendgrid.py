"""SendGrid Inbound Parse (multipart form): POST /webhooks/email/sendgrid, with basic auth.

The form carries the raw header block in `headers`, the text part in `text`, the
SMTP envelope as JSON in `envelope`, and the attachments as files described by
`attachment-info`.
"""

from __future__ import annotations

import json
from email.parser import HeaderParser
from email.policy import default

from fastapi import APIRouter, HTTPException, Request

from services.channels.email import (
    InboundEmail,
    accept_email,
    addresses,
    check_basic_auth,
    check_length,
    form_attachments,
    sender,
)
from shared.runtime import RuntimeDep

router = APIRouter(tags=["webhooks"])

PROVIDER = "sendgrid"


@router.post("/webhooks/email/sendgrid")
async def receive(request: Request, runtime: RuntimeDep) -> dict[str, int]:
    settings = runtime.settings
    check_basic_auth(
        request, PROVIDER, "OMNIROUTE_SENDGRID_BASIC_AUTH", settings.sendgrid_basic_auth
    )
    check_length(request, settings.max_email_bytes)
    async with request.form() as form:  # closes uploaded files when done
        try:
            headers = HeaderParser(policy=default).parsestr(str(form["headers"]))
            envelope = json.loads(str(form.get("envelope", "{}")))
            address, name = sender(str(form["from"]))
            email = InboundEmail(
                provider=PROVIDER,
                message_id=str(headers["Message-ID"]).strip(),
                sender=address,
                sender_name=name,
                recipients=addresses(str(form.get("to", "")), ", ".join(envelope.get("to", []))),
                subject=str(form.get("subject", "")),
                text=str(form.get("text", "")),
                in_reply_to=headers.get("In-Reply-To"),
                references=headers.get("References"),
                attachments=form_attachments(form),
            )
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise HTTPException(400, f"not a SendGrid Inbound Parse form: {error}") from None
    return await accept_email(runtime, email)
