"""The agent desktop: status, and offers (long poll, accept, decline)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, Self

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import and_, func, select

from services.agents import readmodel
from services.agents.api import commands, conversations
from services.agents.api.page import Page
from services.agents.auth import Principal, Role, allow
from shared.db.models import ReadConversation, ReadMessage, ReadOffer
from shared.events import (
    AgentStatus,
    AgentStatusChanged,
    OfferAccepted,
    OfferDeclined,
    utcnow,
)
from shared.runtime import Runtime, RuntimeDep
from shared.types import Text

router = APIRouter(prefix="/v1", tags=["agent desktop"])

AgentKey = Annotated[Principal, Depends(allow(Role.AGENT))]
MAX_WAIT_S = 30
PREVIEW_CHARS = 200


class StatusRequest(BaseModel):
    status: AgentStatus
    reason: Text | None = Field(
        None, min_length=1, max_length=100, description="Why away or offline: lunch, a meeting."
    )

    @model_validator(mode="after")
    def _reason_for_leaving(self) -> Self:
        if self.reason is not None and self.status is AgentStatus.AVAILABLE:
            raise ValueError("a reason goes with away or offline, not available")
        return self


class OfferView(BaseModel):
    """An offer with what the agent needs to take it in at a glance."""

    id: str
    conversation_id: str
    queue_id: str
    expires_at: str
    channel: str | None = None
    customer: dict[str, Any] | None = None
    complexity: dict[str, Any] | None = None
    preview: str | None = Field(
        None, description=f"The customer's last message, its first {PREVIEW_CHARS} characters."
    )


@router.put("/agents/me/status")
async def set_status(
    request: StatusRequest, principal: AgentKey, runtime: RuntimeDep
) -> StatusRequest:
    assert principal.agent_id is not None
    await commands.send(
        runtime,
        principal,
        principal.agent_id,
        AgentStatusChanged(
            agent_id=principal.agent_id, status=request.status, reason=request.reason
        ),
    )
    return request


@router.get("/agents/me/offers")
async def my_offers(
    principal: AgentKey,
    runtime: RuntimeDep,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S)] = 0,
    known: Annotated[
        str,
        Query(
            max_length=4000,
            description="Ids of the open offers the desk already shows, comma-separated: "
            "with `wait`, the answer comes when the open offers differ from these.",
        ),
    ] = "",
) -> Page[OfferView]:
    """Open offers; with `wait`, answers as soon as they differ from `known` (without it:
    as soon as one exists). A desk that passes the offers it shows can poll on at once,
    and sees a new offer while it accepts another."""
    known_ids = frozenset(filter(None, known.split(",")))

    async def open_offers() -> Sequence[ReadOffer]:
        async with runtime.reads() as session:
            return (
                await session.scalars(
                    select(ReadOffer).where(
                        ReadOffer.tenant == principal.tenant,
                        ReadOffer.agent_id == principal.agent_id,
                        ReadOffer.state == "open",
                        ReadOffer.expires_at > utcnow(),
                    )
                )
            ).all()

    async def changed() -> list[Sequence[ReadOffer]]:
        """The open offers, wrapped so that none at all is an answer too (a known offer
        that was withdrawn); nothing while they are the known ones."""
        rows = await open_offers()
        return [rows] if {row.offer_id for row in rows} != known_ids else []

    subject = readmodel.agent_subject(principal.tenant, principal.agent_id or "")
    answer = await runtime.long_poll(wait, changed, subject=subject)
    # No change within the wait: the known offers are still the open ones.
    rows = answer[0] if answer else await open_offers() if known_ids else []
    return Page(items=await _offer_views(runtime, rows))


async def _offer_views(runtime: Runtime, rows: Sequence[ReadOffer]) -> list[OfferView]:
    ids = [row.conversation_id for row in rows]
    if not ids:
        return []
    from_customer = and_(ReadMessage.conversation_id.in_(ids), ReadMessage.sender == "customer")
    latest = (
        select(ReadMessage.conversation_id, func.max(ReadMessage.at).label("at"))
        .where(from_customer)
        .group_by(ReadMessage.conversation_id)
        .subquery()
    )
    async with runtime.reads() as session:
        found = await session.scalars(
            select(ReadConversation).where(ReadConversation.conversation_id.in_(ids))
        )
        conversations = {c.conversation_id: c for c in found}
        said = await session.execute(
            select(ReadMessage.conversation_id, ReadMessage.text)
            .join(
                latest,
                and_(
                    ReadMessage.conversation_id == latest.c.conversation_id,
                    ReadMessage.at == latest.c.at,
                ),
            )
            .where(from_customer)
        )
        last_said = {cid: text for cid, text in said}
    views = []
    for row in rows:
        conversation = conversations.get(row.conversation_id)
        text = last_said.get(row.conversation_id)
        views.append(
            OfferView(
                id=row.offer_id,
                conversation_id=row.conversation_id,
                queue_id=row.queue_id,
                expires_at=row.expires_at.isoformat(),
                channel=conversation.channel if conversation else None,
                customer=json.loads(conversation.customer) if conversation else None,
                complexity=(
                    json.loads(conversation.complexity)
                    if conversation and conversation.complexity
                    else None
                ),
                preview=text[:PREVIEW_CHARS] if text is not None else None,
            )
        )
    return views


async def _own_offer(runtime: Runtime, principal: Principal, offer_id: str) -> ReadOffer:
    async with runtime.reads() as session:
        offer = await session.get(ReadOffer, offer_id)
    if offer is None or offer.tenant != principal.tenant:
        raise HTTPException(404, "no such offer")
    if offer.agent_id != principal.agent_id:
        raise HTTPException(403, "this offer is another agent's")
    if offer.state != "open":
        raise HTTPException(409, f"the offer is {offer.state}")
    return offer


@router.post("/offers/{offer_id}/accept")
async def accept_offer(
    offer_id: str, principal: AgentKey, runtime: RuntimeDep, response: Response
) -> conversations.ConversationView | dict[str, str]:
    offer = await _own_offer(runtime, principal, offer_id)
    assert principal.agent_id is not None
    command_id = await commands.send(
        runtime,
        principal,
        offer.conversation_id,
        OfferAccepted(
            offer_id=offer_id, conversation_id=offer.conversation_id, agent_id=principal.agent_id
        ),
    )
    verdict = await commands.verdict(runtime, command_id, {"ConversationAssigned", "OfferExpired"})
    if verdict is None:
        return commands.pending(response, offer.conversation_id)
    if verdict.type == "OfferExpired":
        raise HTTPException(409, "the offer expired before it was accepted")
    return await conversations.conversation_view(runtime, principal, offer.conversation_id)


@router.post("/offers/{offer_id}/decline", status_code=204)
async def decline_offer(offer_id: str, principal: AgentKey, runtime: RuntimeDep) -> Response:
    offer = await _own_offer(runtime, principal, offer_id)
    assert principal.agent_id is not None
    await commands.send(
        runtime,
        principal,
        offer.conversation_id,
        OfferDeclined(
            offer_id=offer_id, conversation_id=offer.conversation_id, agent_id=principal.agent_id
        ),
    )
    return Response(status_code=204)
