"""What every provider webhook does: bounded bodies, constant-time checks, durable acceptance.

A webhook answers 2xx only after the broker acknowledged every message it carried:
providers retry anything else, and a retry is routed once (the router keys on the
provider's message id).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from shared.events import INBOUND, Envelope, MessageReceived
from shared.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


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


def hmac_sha256_hex(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


async def accept(runtime: Runtime, tenant: str, messages: Sequence[MessageReceived]) -> None:
    """Publish the messages; raise 503 (the provider retries) if the bus cannot take them."""
    envelopes = [
        Envelope.wrap(message, tenant=tenant, key=message.thread_key) for message in messages
    ]
    try:
        await runtime.bus.publish_many(
            [(INBOUND, tenant, envelope.model_dump_json().encode()) for envelope in envelopes]
        )
    except Exception as error:
        raise HTTPException(503, "messages could not be stored; please retry") from error
