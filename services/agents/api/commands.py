"""Commands to the router, and waiting for its verdict.

A command goes to the router through the outbox on cc.agent-events.v1. One that
needs the router's verdict waits for the routing event it caused (matched by
causation) for a few seconds; if the verdict is slower, the answer is 202 with a
Location to look at later.

A request sent again with the same `Idempotency-Key` (a desk retrying after a timeout
that hid its success) makes the same command: same id, so the router's decision on it
is the same message, stored and delivered once.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header, Response
from sqlalchemy import select

from services.agents.auth import Principal
from services.agents.readmodel import cause_subject
from shared.db.models import AppliedEvent
from shared.events import AGENT_EVENTS, Envelope, Payload
from shared.runtime import Runtime

VERDICT_WAIT_S = 3.0
# Command ids made from idempotency keys: uuid5 in a namespace of our own.
_KEYED = uuid.UUID("0b1f6a53-7c1e-4d55-9a57-3f3d2b8e6c11")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Any printable ASCII up to 255 characters, new for each new request: "
        "the same key again (by the same caller, about the same conversation) is the same "
        "request, whatever its body.",
    ),
]


async def send(
    runtime: Runtime,
    principal: Principal,
    key: str,
    command: Payload,
    *,
    idempotency_key: str | None = None,
) -> str:
    """Queue the command for the router; returns its event id."""
    envelope = Envelope.wrap(command, tenant=principal.tenant, key=key)
    if idempotency_key is not None:
        envelope = envelope.model_copy(update={"id": keyed_id(principal, key, idempotency_key)})
    async with runtime.unit_of_work() as uow:
        uow.emit(AGENT_EVENTS, envelope)
        await uow.commit()
    return envelope.id


def keyed_id(principal: Principal, key: str, idempotency_key: str) -> str:
    """The id of the request `idempotency_key` names: the caller's about `key`."""
    caller = principal.agent_id or principal.key_id
    return str(uuid.uuid5(_KEYED, f"{principal.tenant}/{caller}/{key}/{idempotency_key}"))


async def verdict(runtime: Runtime, command_id: str, types: set[str]) -> AppliedEvent | None:
    """The first routing event of `types` caused by the command, within a few seconds."""

    async def caused() -> AppliedEvent | None:
        async with runtime.reads() as session:
            return await session.scalar(
                select(AppliedEvent).where(
                    AppliedEvent.causation == command_id, AppliedEvent.type.in_(types)
                )
            )

    return await runtime.long_poll(VERDICT_WAIT_S, caused, subject=cause_subject(command_id))


def pending(response: Response, conversation_id: str) -> dict[str, str]:
    """The router has not answered yet: 202, and where to look."""
    response.status_code = 202
    response.headers["Location"] = f"/v1/conversations/{conversation_id}"
    return {"status": "pending"}
