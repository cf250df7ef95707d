"""What the email providers share: threading headers, reply stripping, tenant by address.

A reply joins its conversation through Message-ID, In-Reply-To and References: the
thread key is the first Message-ID of the thread (the References root), and the
router also joins on any referenced id it has seen. Quoted history and signatures
are cut from the routed text (mail-parser-reply, English and Spanish); attachments
are metadata only.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid, parseaddr

import aiosmtplib
import httpx
from fastapi import HTTPException, Request
from mailparser_reply import EmailReplyParser
from pydantic import SecretStr
from starlette.datastructures import FormData, UploadFile

from services.channels.outbound import PermanentFailure
from services.channels.webhooks import accept, missing, reject, same_secret
from shared.events import Attachment, Channel, Customer, DeliverMessage, Envelope, MessageReceived
from shared.runtime import Runtime

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_REPLIES = EmailReplyParser(languages=["en", "es"])


@dataclass(frozen=True)
class InboundEmail:
    provider: str
    message_id: str
    sender: str
    sender_name: str | None
    recipients: tuple[str, ...]
    subject: str
    text: str
    in_reply_to: str | None = None
    references: str | None = None
    attachments: tuple[Attachment, ...] = ()


def message_ids(header: str | None) -> tuple[str, ...]:
    return tuple(_MESSAGE_ID.findall(header or ""))


def addresses(*headers: str | None) -> tuple[str, ...]:
    return tuple(
        address.lower() for _, address in getaddresses([h for h in headers if h]) if address
    )


def sender(header: str) -> tuple[str, str | None]:
    name, address = parseaddr(header)
    return address.lower(), name or None


def strip_reply(text: str) -> str:
    """The new part of a reply: no quoted history, no signature."""
    replies = _REPLIES.read(text=text).replies
    latest = str(replies[0].body).strip() if replies else ""
    return latest or text.strip()


def to_message(email: InboundEmail, account: str | None = None) -> MessageReceived:
    references = message_ids(email.references) + message_ids(email.in_reply_to)
    thread_root = references[0] if references else email.message_id
    return MessageReceived(
        account_id=account,
        channel=Channel.EMAIL,
        provider=email.provider,
        provider_message_id=email.message_id,
        thread_key=thread_root,
        customer=Customer(id=email.sender, name=email.sender_name, email=email.sender),
        text=strip_reply(email.text),
        subject=email.subject,
        references=tuple(dict.fromkeys(references)),
        attachments=email.attachments,
    )


async def accept_email(runtime: Runtime, email: InboundEmail) -> dict[str, int]:
    settings = runtime.settings
    known = [a for a in email.recipients if a in settings.email_addresses]
    if known:
        account: str | None = known[0]
        tenant = settings.email_addresses[known[0]]
    elif runtime.embedded:
        account, tenant = (email.recipients or (None,))[0], settings.demo_tenant
    else:
        raise HTTPException(404, f"no tenant receives mail for {', '.join(email.recipients)}")
    return {"accepted": await accept(runtime, tenant, [to_message(email, account)])}


def check_basic_auth(
    request: Request, provider: str, setting: str, expected: SecretStr | None
) -> None:
    """`expected` is `user:password`, as the provider is configured to send it."""
    if expected is None:
        raise missing(setting)
    given = request.headers.get("authorization", "")
    scheme, _, credentials = given.partition(" ")
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    if scheme.lower() != "basic" or not same_secret(decoded, expected.get_secret_value()):
        raise reject(provider, 401, "the basic auth credentials do not match")


def form_attachments(form: FormData) -> tuple[Attachment, ...]:
    """Metadata of the files of a parsed form; their content stays out of events."""
    return tuple(
        Attachment(
            name=item.filename or field,
            content_type=item.content_type or "application/octet-stream",
            size_bytes=item.size,
        )
        for field, item in form.multi_items()
        if isinstance(item, UploadFile)
    )


def check_length(request: Request, limit: int) -> None:
    """Forms are parsed by the framework: bound them by their declared length."""
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        raise HTTPException(411, "Content-Length is required")
    if int(declared) > limit:
        raise HTTPException(413, f"the body is larger than {limit} bytes")


async def send(
    client: httpx.AsyncClient, runtime: Runtime, envelope: Envelope, message: DeliverMessage
) -> httpx.Response:
    """A reply by SMTP, threaded: In-Reply-To the customer's last message, References
    the thread, so the customer's mail client shows it in the same conversation."""
    settings = runtime.settings
    sender_address = message.account_id or settings.email_from
    if settings.smtp_host is None or sender_address is None:
        raise PermanentFailure("OMNIROUTE_SMTP_HOST and a sender address are needed for email")
    mail = EmailMessage()
    mail["From"] = sender_address
    mail["To"] = message.recipient
    subject = message.subject or ""
    mail["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()
    mail["Message-ID"] = make_msgid(domain=sender_address.rpartition("@")[2] or None)
    if message.reply_to_provider_message_id:
        mail["In-Reply-To"] = message.reply_to_provider_message_id
    thread = dict.fromkeys([message.thread_key, message.reply_to_provider_message_id])
    mail["References"] = " ".join(ref for ref in thread if ref)
    mail.set_content(message.text)
    try:
        await aiosmtplib.send(
            mail,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_starttls,
            timeout=30,
        )
    except aiosmtplib.SMTPResponseException as error:
        if error.code >= 500:
            raise PermanentFailure(f"SMTP {error.code}: {error.message}") from error
        return httpx.Response(503, text=f"SMTP {error.code}: {error.message}")  # try again
    except (aiosmtplib.SMTPException, OSError) as error:
        return httpx.Response(503, text=f"SMTP: {error}")
    return httpx.Response(200)
