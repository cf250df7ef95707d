"""What every provider webhook does: bounded bodies, constant-time checks, durable acceptance.

A webhook answers 2xx only after the broker acknowledged every message it carried:
providers retry anything else, and a retry is routed once (the router keys on the
provider's message id).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

import structlog
from fastapi import HTTPException, Request
from prometheus_client import Counter
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import ChannelMessage
from shared.events import INBOUND, CustomerLeft, Envelope, MessageReceived, encode, utcnow
from shared.language import detect
from shared.runtime import Runtime

log = structlog.get_logger(__name__)

ACCEPTED = Counter(
    "omniroute_webhook_messages_total", "Customer messages accepted from providers.", ["provider"]
)
REJECTED = Counter(
    "omniroute_webhook_rejected_total",
    "Webhook requests refused for a bad or missing signature or secret.",
    ["provider"],
)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body (signatures cover the exact bytes), refused past `limit` with 413."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"the body is larger than {limit} bytes")
    return bytes(body)


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so response timing reveals nothing of the secret."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def signed_body(
    request: Request,
    *,
    provider: str,
    secret: SecretStr | None,
    setting: str,
    header: str,
    sign: Callable[[str, bytes], str],
    limit: int,
) -> bytes:
    """The raw body, once `header` equals `sign(secret, body)` (401 otherwise, 503 while
    the secret is not configured)."""
    if secret is None:
        raise missing(setting)
    body = await read_body(request, limit)
    if not same_secret(request.headers.get(header), sign(secret.get_secret_value(), body)):
        raise reject(provider, 401, f"{header} does not match the body")
    return body


def hmac_sha256(key: str, data: bytes) -> bytes:
    return hmac.new(key.encode(), data, hashlib.sha256).digest()


async def accept(
    runtime: Runtime,
    tenant: str,
    messages: Sequence[MessageReceived],
    *,
    also: Callable[[AsyncSession], None] | None = None,
) -> int:
    """Publish the messages not accepted before; returns how many were new.

    The ids are recorded in the same transaction that is committed only after the bus
    acknowledged, so a redelivery after a restart is accepted once, and a failure leaves
    nothing half-written: 503, and the provider's retry goes through. `also` adds rows
    that must commit with the messages (a web chat transcript line).
    """
    # One message per provider id, even if a payload repeats one.
    unique = {message.provider_message_id: message for message in messages}
    if not unique:
        return 0
    provider = messages[0].provider
    try:
        async with runtime.sessions() as session, session.begin():
            seen = set(
                await session.scalars(
                    select(ChannelMessage.provider_message_id).where(
                        ChannelMessage.provider == provider,
                        ChannelMessage.provider_message_id.in_(list(unique)),
                    )
                )
            )
            fresh = [message for key, message in unique.items() if key not in seen]
            if not fresh:
                return 0
            now = utcnow()
            session.add_all(
                ChannelMessage(
                    provider=m.provider, provider_message_id=m.provider_message_id, accepted_at=now
                )
                for m in fresh
            )
            if also is not None:
                also(session)
            await session.flush()
            await runtime.bus.publish_many(
                [(INBOUND, tenant, inbound_record(_with_language(m), tenant)) for m in fresh]
            )
    except IntegrityError:
        return 0  # the same delivery is being accepted concurrently: it counts there
    except Exception as error:
        log.warning("channels.accept_failed", error=repr(error))
        raise HTTPException(503, "messages could not be stored; please retry") from error
    ACCEPTED.labels(provider).inc(len(fresh))
    return len(fresh)


def _with_language(message: MessageReceived) -> MessageReceived:
    hint = (message.language_hint or "")[:2].lower()
    if hint not in ("es", "en"):
        hint = detect(message.text)
    return message.model_copy(update={"language_hint": hint})


def inbound_record(event: MessageReceived | CustomerLeft, tenant: str) -> bytes:
    """A customer's message or departure, encoded for cc.inbound.v1 (keyed by its thread)."""
    return encode(Envelope.wrap(event, tenant=tenant, key=event.thread_key))


def reject(provider: str, status: int, reason: str) -> HTTPException:
    """Refuse a request whose signature or secret does not check, and count it."""
    REJECTED.labels(provider).inc()
    return HTTPException(status, reason)


def missing(setting: str) -> HTTPException:
    """A provider endpoint never accepts unsigned input: without its secret it is closed."""
    return HTTPException(503, f"{setting} is not set: this endpoint is closed until it is")
