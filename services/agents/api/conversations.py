"""Conversations at the desk: lists, the transcript (long poll), replies, transfer, close
and the after-contact work that may follow the close.

Agents act on their own conversations only, and see those and the earlier ones of the
customers they are serving; supervisors and admins see all of the tenant's and may
transfer any of them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agents import configuration, live, readmodel
from services.agents.api import commands
from services.agents.api.page import Page
from services.agents.auth import AnyRole, Principal, Role, allow
from services.agents.statistics import WAITING, Position
from shared.db.models import AppliedEvent, ReadConversation, ReadMessage
from shared.events import (
    AgentUpserted,
    Channel,
    ConversationCloseRequested,
    ConversationTransferRequested,
    QueueUpserted,
    ReplySent,
    Sender,
    WrapUpEndRequested,
    utcnow,
)
from shared.runtime import Runtime, RuntimeDep
from shared.types import Text

router = APIRouter(prefix="/v1", tags=["conversations"])

AgentKey = Annotated[Principal, Depends(allow(Role.AGENT))]
MAX_WAIT_S = 30
EARLIER = 5
State = Literal["waiting", "offered", "assigned", "bot", "closed", "abandoned"]


class MessageView(BaseModel):
    id: str
    sender: str
    agent_id: str | None
    text: str
    at: str


class HistoryLine(BaseModel):
    """One routing decision about the conversation."""

    type: str
    at: str
    detail: dict[str, Any]


class EarlierConversation(BaseModel):
    """One of the customer's earlier conversations, to see at a glance what came before."""

    id: str
    state: str
    channel: str
    queue_id: str | None
    agent_id: str | None
    disposition: str | None
    opened_at: str


class ConversationView(BaseModel):
    id: str
    state: str
    channel: str
    thread: str
    queue_id: str | None
    agent_id: str | None
    customer: dict[str, Any]
    complexity: dict[str, Any] | None
    position: int | None = Field(None, description="Place in the queue while waiting (1 = next).")
    estimated_wait_s: float | None = Field(None, description="Expected wait from now, if waiting.")
    wrap_up_until: str | None = Field(
        None,
        description="Closed, with the agent's after-contact work under way: when it ends "
        "by itself (the queue's wrap_up_s after the close).",
    )
    messages: list[MessageView] = []
    history: list[HistoryLine] = []
    earlier: list[EarlierConversation] = Field(
        [],
        description="The same customer's latest conversations before this one (up to "
        f"{EARLIER}), newest first; in the detail view only.",
    )


class ReplyRequest(BaseModel):
    text: Text = Field(min_length=1, max_length=5000)


class CloseRequest(BaseModel):
    disposition: Text = Field("resolved", min_length=1, max_length=100)


class TransferRequest(BaseModel):
    queue_id: str | None = Field(None, min_length=1, max_length=200)
    agent_id: str | None = Field(None, min_length=1, max_length=200)
    note: Text | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.queue_id is None) == (self.agent_id is None):
            raise ValueError("give exactly one of queue_id and agent_id")
        return self


def _message_view(m: ReadMessage) -> MessageView:
    return MessageView(
        id=m.message_id, sender=m.sender, agent_id=m.agent_id, text=m.text, at=m.at.isoformat()
    )


def _view(
    row: ReadConversation,
    waits: dict[str, Position],
    messages: Sequence[ReadMessage] = (),
    history: Sequence[AppliedEvent] = (),
    earlier: Sequence[ReadConversation] = (),
) -> ConversationView:
    wait = waits.get(row.conversation_id)
    return ConversationView(
        id=row.conversation_id,
        state=row.state,
        channel=row.channel,
        thread=row.thread,
        queue_id=row.queue_id,
        agent_id=row.agent_id,
        customer=json.loads(row.customer),
        complexity=json.loads(row.complexity) if row.complexity else None,
        position=wait.position if wait else None,
        estimated_wait_s=wait.estimated_wait_s if wait else None,
        wrap_up_until=row.wrap_up_until.isoformat()
        if row.wrap_up_until and row.wrapping_up
        else None,
        messages=[_message_view(m) for m in messages],
        history=[
            HistoryLine(type=h.type, at=h.at.isoformat(), detail=json.loads(h.detail or "{}"))
            for h in history
        ],
        earlier=[
            EarlierConversation(
                id=e.conversation_id,
                state=e.state,
                channel=e.channel,
                queue_id=e.queue_id,
                agent_id=e.agent_id,
                disposition=e.disposition,
                opened_at=e.opened_at.isoformat(),
            )
            for e in earlier
        ],
    )


async def _waits(
    runtime: Runtime, tenant: str, rows: Sequence[ReadConversation]
) -> dict[str, Position]:
    """Positions are worked out only when a conversation in the answer is waiting."""
    if not any(row.state in WAITING for row in rows):
        return {}
    return (await live.desk(runtime.reads, tenant, utcnow())).positions()


async def _own(
    runtime: Runtime, principal: Principal, conversation_id: str, *, to_read: bool = False
) -> ReadConversation:
    """The conversation, if the key may see it: 404 outside the tenant, 403 another agent's.
    To read, an agent may also open the conversations of a customer they are serving now:
    what happened last time is what they need to know."""
    async with runtime.reads() as session:
        row = await session.get(ReadConversation, conversation_id)
        if row is None or row.tenant != principal.tenant:
            raise HTTPException(404, "no such conversation")
        if (
            principal.role is Role.AGENT
            and row.agent_id != principal.agent_id
            and not (to_read and await _serving(session, principal, row.customer_id))
        ):
            raise HTTPException(403, "this conversation is another agent's")
    return row


async def _serving(session: AsyncSession, principal: Principal, customer_id: str | None) -> bool:
    """The agent holds a conversation of this customer now (or is wrapping one up)."""
    held = await session.scalar(
        select(ReadConversation.conversation_id)
        .where(
            ReadConversation.tenant == principal.tenant,
            ReadConversation.agent_id == principal.agent_id,
            ReadConversation.customer_id == customer_id,
            live.holds_a_slot(),
        )
        .limit(1)
    )
    return held is not None


async def conversation_view(
    runtime: Runtime, principal: Principal, conversation_id: str
) -> ConversationView:
    await _own(runtime, principal, conversation_id, to_read=True)
    return await _detailed(runtime, principal.tenant, conversation_id)


async def _detailed(runtime: Runtime, tenant: str, conversation_id: str) -> ConversationView:
    async with runtime.reads() as session:
        row = await session.get(ReadConversation, conversation_id)
        assert row is not None  # the caller checked it exists; rows are never deleted
        messages = (
            await session.scalars(
                select(ReadMessage)
                .where(ReadMessage.conversation_id == conversation_id)
                .order_by(ReadMessage.at, ReadMessage.message_id)
            )
        ).all()
        history = (
            await session.scalars(
                select(AppliedEvent)
                .where(
                    AppliedEvent.conversation_id == conversation_id,
                    AppliedEvent.type != "MessageAppended",
                )
                .order_by(AppliedEvent.at, AppliedEvent.event_id)
            )
        ).all()
        earlier = (
            await session.scalars(
                select(ReadConversation)
                .where(
                    ReadConversation.tenant == tenant,
                    ReadConversation.customer_id == row.customer_id,
                    ReadConversation.opened_at < row.opened_at,
                )
                .order_by(ReadConversation.opened_at.desc())
                .limit(EARLIER)
            )
        ).all()
    return _view(row, await _waits(runtime, tenant, [row]), messages, history, earlier)


@router.get("/agents/me/conversations")
async def my_conversations(principal: AgentKey, runtime: RuntimeDep) -> Page[ConversationView]:
    async with runtime.reads() as session:
        rows = (
            await session.scalars(
                select(ReadConversation)
                .where(
                    ReadConversation.tenant == principal.tenant,
                    ReadConversation.agent_id == principal.agent_id,
                    live.holds_a_slot(),
                )
                .order_by(ReadConversation.opened_at)
            )
        ).all()
    return Page(items=[_view(row, {}) for row in rows])


def _cursor(row: ReadConversation) -> str:
    raw = f"{row.opened_at.isoformat()}|{row.conversation_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _after_cursor(cursor: str) -> Any:
    try:
        opened, conversation_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        at = datetime.fromisoformat(opened)
    except ValueError as error:
        raise HTTPException(400, "the cursor is not one this API gave") from error
    return or_(
        ReadConversation.opened_at < at,
        and_(ReadConversation.opened_at == at, ReadConversation.conversation_id < conversation_id),
    )


@router.get("/conversations")
async def list_conversations(
    principal: AnyRole,
    runtime: RuntimeDep,
    state: State | None = None,
    queue: str | None = None,
    channel: Channel | None = None,
    thread: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> Page[ConversationView]:
    """Conversations of the tenant, newest first (an agent sees only their own); waiting
    ones with their position and estimated wait. `next` is the cursor of the next page."""
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
    if cursor is not None:
        query = query.where(_after_cursor(cursor))
    order = (ReadConversation.opened_at.desc(), ReadConversation.conversation_id.desc())
    async with runtime.reads() as session:
        rows = (await session.scalars(query.order_by(*order).limit(limit + 1))).all()
    page, more = rows[:limit], len(rows) > limit
    waits = await _waits(runtime, principal.tenant, page)
    return Page(items=[_view(row, waits) for row in page], next=_cursor(page[-1]) if more else None)


@router.get("/conversations/{conversation_id}")
async def read_conversation(
    conversation_id: str, principal: AnyRole, runtime: RuntimeDep
) -> ConversationView:
    """Customer, channel, complexity, transcript, routing history; position if waiting."""
    return await conversation_view(runtime, principal, conversation_id)


@router.get("/conversations/{conversation_id}/messages")
async def read_messages(
    conversation_id: str,
    principal: AnyRole,
    runtime: RuntimeDep,
    after: str | None = None,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S)] = 0,
) -> Page[MessageView]:
    """Messages after the message `after` (all without it); with `wait`, answers as soon
    as there is one."""
    await _own(runtime, principal, conversation_id, to_read=True)
    query = select(ReadMessage).where(ReadMessage.conversation_id == conversation_id)
    if after is not None:
        async with runtime.reads() as session:
            last = await session.get(ReadMessage, after)
        if last is None or last.conversation_id != conversation_id:
            raise HTTPException(404, f"no message {after!r} in this conversation")
        query = query.where(
            or_(
                ReadMessage.at > last.at,
                and_(ReadMessage.at == last.at, ReadMessage.message_id > last.message_id),
            )
        )

    async def new_messages() -> Sequence[ReadMessage]:
        async with runtime.reads() as session:
            ordered = query.order_by(ReadMessage.at, ReadMessage.message_id)
            return (await session.scalars(ordered)).all()

    subject = readmodel.conversation_subject(conversation_id)
    rows = await runtime.long_poll(wait, new_messages, subject=subject)
    return Page(items=[_message_view(m) for m in rows])


@router.post("/conversations/{conversation_id}/messages", status_code=202)
async def reply(
    conversation_id: str,
    request: ReplyRequest,
    principal: AgentKey,
    runtime: RuntimeDep,
    idempotency_key: commands.IdempotencyKey = None,
) -> dict[str, str]:
    """A reply to the customer, delivered on their channel once the router appends it.
    Sent again with the same Idempotency-Key, it is the same reply: the customer gets it
    once, and the answer gives the same id."""
    await _own(runtime, principal, conversation_id)
    command_id = await commands.send(
        runtime,
        principal,
        conversation_id,
        ReplySent(
            conversation_id=conversation_id,
            sender=Sender.AGENT,
            agent_id=principal.agent_id,
            text=request.text,
        ),
        idempotency_key=idempotency_key,
    )
    return {"id": command_id}


@router.post("/conversations/{conversation_id}/transfer")
async def transfer(
    conversation_id: str,
    request: TransferRequest,
    principal: AnyRole,
    runtime: RuntimeDep,
    response: Response,
) -> ConversationView | dict[str, str]:
    """To a queue (it waits there) or to an agent (offered to them). 200 with the
    conversation once moved, 409 with the router's reason when it cannot be."""
    await _own(runtime, principal, conversation_id)
    if request.queue_id is not None and not await configuration.get(
        runtime.sessions, principal.tenant, QueueUpserted, request.queue_id
    ):
        raise HTTPException(422, f"unknown queue {request.queue_id!r}")
    if request.agent_id is not None:
        target = await configuration.get(
            runtime.sessions, principal.tenant, AgentUpserted, request.agent_id
        )
        if target is None or not target.active:
            raise HTTPException(422, f"unknown agent {request.agent_id!r}")
    command_id = await commands.send(
        runtime,
        principal,
        conversation_id,
        ConversationTransferRequested(
            conversation_id=conversation_id,
            by_agent_id=principal.agent_id if principal.role is Role.AGENT else None,
            to_queue_id=request.queue_id,
            to_agent_id=request.agent_id,
            note=request.note,
        ),
    )
    verdict = await commands.verdict(
        runtime, command_id, {"ConversationTransferred", "TransferRefused"}
    )
    if verdict is None:
        return commands.pending(response, conversation_id)
    if verdict.type == "TransferRefused":
        raise HTTPException(409, json.loads(verdict.detail or "{}").get("reason", "refused"))
    # Shown even to an agent who no longer holds it: the answer to their own transfer.
    return await _detailed(runtime, principal.tenant, conversation_id)


@router.post("/conversations/{conversation_id}/close", status_code=202)
async def close(
    conversation_id: str, request: CloseRequest, principal: AgentKey, runtime: RuntimeDep
) -> dict[str, str]:
    await _own(runtime, principal, conversation_id)
    command_id = await commands.send(
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


@router.post("/conversations/{conversation_id}/wrap-up/end", status_code=202)
async def end_wrap_up(
    conversation_id: str, principal: AgentKey, runtime: RuntimeDep
) -> dict[str, str]:
    """The agent is done with the after-contact work: their slot takes the next customer."""
    row = await _own(runtime, principal, conversation_id)
    if not row.wrapping_up:
        raise HTTPException(409, "no wrap-up of this conversation is under way")
    assert principal.agent_id is not None  # an agent key is bound to its agent
    command_id = await commands.send(
        runtime,
        principal,
        principal.agent_id,
        WrapUpEndRequested(agent_id=principal.agent_id, conversation_id=conversation_id),
    )
    return {"id": command_id}
