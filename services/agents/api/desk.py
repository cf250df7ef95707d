"""The agent desktop: status, offers (long poll), accept and decline, conversations,
replies and closing.

Commands go to the router through the outbox on cc.agent-events.v1. A command that
needs the router's verdict waits for the routing event it caused (matched by
causation) for a few seconds: 200 or 409; if the verdict is slower, 202 with a
Location to look at later.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.agents.api.page import Page
from services.agents.auth import AnyRole, Principal, Role, allow
from shared.db.models import AppliedEvent, ReadConversation, ReadMessage, ReadOffer
from shared.db.unit_of_work import UnitOfWork
from shared.events import (
    AGENT_EVENTS,
    AgentStatus,
    AgentStatusChanged,
    Channel,
    ConversationCloseRequested,
    Envelope,
    OfferAccepted,
    OfferDeclined,
    Payload,
    ReplySent,
    Sender,
    utcnow,
)
from shared.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/v1", tags=["agent desktop"])

AgentKey = Annotated[Principal, Depends(allow(Role.AGENT))]
MAX_WAIT_S = 30
VERDICT_WAIT_S = 3.0


class StatusRequest(BaseModel):
    status: AgentStatus


class OfferView(BaseModel):
    id: str
    conversation_id: str
    queue_id: str
    expires_at: str


class MessageView(BaseModel):
    id: str
    sender: str
    agent_id: str | None
    text: str
    at: str


class ConversationView(BaseModel):
    id: str
    state: str
    channel: str
    thread: str
    queue_id: str | None
    agent_id: str | None
    customer: dict[str, Any]
    complexity: dict[str, Any] | None
    messages: list[MessageView] = []


class ReplyRequest(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class CloseRequest(BaseModel):
    disposition: str = Field("resolved", min_length=1, max_length=100)


async def _command(runtime: Runtime, principal: Principal, key: str, command: Payload) -> str:
    envelope = Envelope.wrap(command, tenant=principal.tenant, key=key)
    async with UnitOfWork(runtime.sessions) as uow:
        uow.emit(AGENT_EVENTS, envelope)
        await uow.commit()
    return envelope.id


async def _verdict(runtime: Runtime, command_id: str, types: set[str]) -> str | None:
    """The type of the first routing event caused by the command, within a few seconds."""
    deadline = time.monotonic() + VERDICT_WAIT_S
    while True:
        async with runtime.sessions() as session:
            found = await session.scalar(
                select(AppliedEvent.type).where(
                    AppliedEvent.causation == command_id, AppliedEvent.type.in_(types)
                )
            )
        remaining = deadline - time.monotonic()
        if found or remaining <= 0:
            return found
        await runtime.wait_changed(remaining)


@router.put("/agents/me/status")
async def set_status(
    request: StatusRequest, principal: AgentKey, runtime: RuntimeDep
) -> StatusRequest:
    assert principal.agent_id is not None
    await _command(
        runtime,
        principal,
        principal.agent_id,
        AgentStatusChanged(agent_id=principal.agent_id, status=request.status),
    )
    return request


@router.get("/agents/me/offers")
async def my_offers(
    principal: AgentKey,
    runtime: RuntimeDep,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S)] = 0,
) -> Page[OfferView]:
    """Open offers; with `wait`, answers as soon as one exists."""
    deadline = time.monotonic() + wait
    while True:
        async with runtime.sessions() as session:
            rows = (
                await session.scalars(
                    select(ReadOffer).where(
                        ReadOffer.tenant == principal.tenant,
                        ReadOffer.agent_id == principal.agent_id,
                        ReadOffer.state == "open",
                        ReadOffer.expires_at > utcnow(),
                    )
                )
            ).all()
        remaining = deadline - time.monotonic()
        if rows or remaining <= 0:
            return Page(items=[_offer_view(row) for row in rows])
        await runtime.wait_changed(remaining)


def _offer_view(row: ReadOffer) -> OfferView:
    return OfferView(
        id=row.offer_id,
        conversation_id=row.conversation_id,
        queue_id=row.queue_id,
        expires_at=row.expires_at.isoformat(),
    )


async def _own_offer(runtime: Runtime, principal: Principal, offer_id: str) -> ReadOffer:
    async with runtime.sessions() as session:
        offer = await session.get(ReadOffer, offer_id)
    if offer is None or offer.tenant != principal.tenant or offer.agent_id != principal.agent_id:
        raise HTTPException(404, "no such offer for you")
    if offer.state != "open":
        raise HTTPException(409, f"the offer is {offer.state}")
    return offer


@router.post("/offers/{offer_id}/accept")
async def accept_offer(
    offer_id: str, principal: AgentKey, runtime: RuntimeDep, response: Response
) -> ConversationView | dict[str, str]:
    offer = await _own_offer(runtime, principal, offer_id)
    assert principal.agent_id is not None
    command_id = await _command(
        runtime,
        principal,
        offer.conversation_id,
        OfferAccepted(
            offer_id=offer_id, conversation_id=offer.conversation_id, agent_id=principal.agent_id
        ),
    )
    verdict = await _verdict(runtime, command_id, {"ConversationAssigned", "OfferExpired"})
    if verdict == "OfferExpired":
        raise HTTPException(409, "the offer expired before it was accepted")
    if verdict is None:
        response.status_code = 202
        response.headers["Location"] = f"/v1/conversations/{offer.conversation_id}"
        return {"status": "pending"}
    return await _conversation_view(runtime, principal, offer.conversation_id)


@router.post("/offers/{offer_id}/decline", status_code=204)
async def decline_offer(offer_id: str, principal: AgentKey, runtime: RuntimeDep) -> Response:
    offer = await _own_offer(runtime, principal, offer_id)
    assert principal.agent_id is not None
    await _command(
        runtime,
        principal,
        offer.conversation_id,
        OfferDeclined(
            offer_id=offer_id, conversation_id=offer.conversation_id, agent_id=principal.agent_id
        ),
    )
    return Response(status_code=204)


@router.get("/agents/me/conversations")
async def my_conversations(principal: AgentKey, runtime: RuntimeDep) -> Page[ConversationView]:
    async with runtime.sessions() as session:
        rows = (
            await session.scalars(
                select(ReadConversation).where(
                    ReadConversation.tenant == principal.tenant,
                    ReadConversation.agent_id == principal.agent_id,
                    ReadConversation.state == "assigned",
                )
            )
        ).all()
    return Page(items=[_view(row, []) for row in rows])


async def _conversation_view(
    runtime: Runtime, principal: Principal, conversation_id: str
) -> ConversationView:
    async with runtime.sessions() as session:
        row = await session.get(ReadConversation, conversation_id)
        if row is None or row.tenant != principal.tenant:
            raise HTTPException(404, "no such conversation")
        if principal.role is Role.AGENT and row.agent_id != principal.agent_id:
            raise HTTPException(403, "this conversation is another agent's")
        messages = (
            await session.scalars(
                select(ReadMessage)
                .where(ReadMessage.conversation_id == conversation_id)
                .order_by(ReadMessage.at)
            )
        ).all()
    return _view(row, messages)


def _view(row: ReadConversation, messages: Any) -> ConversationView:
    return ConversationView(
        id=row.conversation_id,
        state=row.state,
        channel=row.channel,
        thread=row.thread,
        queue_id=row.queue_id,
        agent_id=row.agent_id,
        customer=json.loads(row.customer),
        complexity=json.loads(row.complexity) if row.complexity else None,
        messages=[
            MessageView(
                id=m.message_id,
                sender=m.sender,
                agent_id=m.agent_id,
                text=m.text,
                at=m.at.isoformat(),
            )
            for m in messages
        ],
    )


State = Literal["waiting", "offered", "assigned", "bot", "closed", "abandoned"]


@router.get("/conversations")
async def list_conversations(
    principal: AnyRole,
    runtime: RuntimeDep,
    state: State | None = None,
    queue: str | None = None,
    channel: Channel | None = None,
    thread: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[ConversationView]:
    """Conversations of the tenant, newest first; an agent sees only their own."""
    query = select(ReadConversation).where(ReadConversation.tenant == principal.tenant)
    if principal.role is Role.AGENT:
        query = query.where(ReadConversation.agent_id == principal.agent_id)
    for column, value in (
        (ReadConversation.state, state),
        (ReadConversation.queue_id, queue),
        (ReadConversation.channel, channel.value if channel else None),
        (ReadConversation.thread, thread),
    ):
        if value is not None:
            query = query.where(column == value)
    async with runtime.sessions() as session:
        rows = (
            await session.scalars(query.order_by(ReadConversation.opened_at.desc()).limit(limit))
        ).all()
    return Page(items=[_view(row, []) for row in rows])


@router.get("/conversations/{conversation_id}")
async def read_conversation(
    conversation_id: str, principal: AnyRole, runtime: RuntimeDep
) -> ConversationView:
    return await _conversation_view(runtime, principal, conversation_id)


@router.post("/conversations/{conversation_id}/messages", status_code=202)
async def reply(
    conversation_id: str, request: ReplyRequest, principal: AgentKey, runtime: RuntimeDep
) -> dict[str, str]:
    await _conversation_view(runtime, principal, conversation_id)  # own conversation, or 403/404
    command_id = await _command(
        runtime,
        principal,
        conversation_id,
        ReplySent(
            conversation_id=conversation_id,
            sender=Sender.AGENT,
            agent_id=principal.agent_id,
            text=request.text,
        ),
    )
    return {"id": command_id}


@router.post("/conversations/{conversation_id}/close", status_code=202)
async def close(
    conversation_id: str, request: CloseRequest, principal: AgentKey, runtime: RuntimeDep
) -> dict[str, str]:
    await _conversation_view(runtime, principal, conversation_id)
    command_id = await _command(
        runtime,
        principal,
        conversation_id,
        ConversationCloseRequested(
            conversation_id=conversation_id,
            by_agent_id=principal.agent_id,
            disposition=request.disposition,
        ),
    )
    return {"id": command_id}
