"""Commands to the router, and waiting for its verdict.

A command goes to the router through the outbox on cc.agent-events.v1. One that
needs the router's verdict waits for the routing event it caused (matched by
causation) for a few seconds; if the verdict is slower, the answer is 202 with a
Location to look at later.
"""

from __future__ import annotations

from fastapi import Response
from sqlalchemy import select

from services.agents.auth import Principal
from services.agents.readmodel import cause_subject
from shared.db.models import AppliedEvent
from shared.events import AGENT_EVENTS, Envelope, Payload
from shared.runtime import Runtime

VERDICT_WAIT_S = 3.0


async def send(runtime: Runtime, principal: Principal, key: str, command: Payload) -> str:
    """Queue the command for the router; returns its event id."""
    envelope = Envelope.wrap(command, tenant=principal.tenant, key=key)
    async with runtime.unit_of_work() as uow:
        uow.emit(AGENT_EVENTS, envelope)
        await uow.commit()
    return envelope.id


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
