"""The read model: what the router decided (cc.routing.v1), kept for the API to query.

Each event is applied once: its id is stored in the same transaction as its
effect, so a redelivered event (after a crash, or the relay publishing twice)
changes nothing.
"""

from __future__ import annotations

import json

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus.consumer import consume
from shared.db.models import AppliedEvent, ReadConversation, ReadMessage, ReadOffer
from shared.events import (
    ROUTING,
    ComplexityScored,
    ConversationAbandoned,
    ConversationAssigned,
    ConversationClosed,
    ConversationOpened,
    ConversationQueued,
    ConversationTransferred,
    Envelope,
    HandedToBot,
    MessageAppended,
    OfferCreated,
    OfferDeclined,
    OfferExpired,
)
from shared.runtime import Runtime

GROUP = "agents-readmodel"


async def project(runtime: Runtime) -> None:
    """Worker: apply every routing event to the read model."""

    async def apply_one(envelope: Envelope) -> None:
        async with runtime.sessions() as session, session.begin():
            await apply(session, envelope)
        await runtime.notify_changed()

    await consume(runtime.bus, [ROUTING], GROUP, apply_one, stop=runtime.stop)


async def apply(session: AsyncSession, envelope: Envelope) -> None:
    if await session.get(AppliedEvent, envelope.id) is not None:
        return
    data = envelope.data
    conversation_id = getattr(data, "conversation_id", None)
    session.add(
        AppliedEvent(
            event_id=envelope.id,
            type=envelope.type,
            causation=envelope.causation,
            conversation_id=conversation_id,
            at=envelope.at,
        )
    )
    match data:
        case ConversationOpened():
            session.add(
                ReadConversation(
                    conversation_id=data.conversation_id,
                    tenant=envelope.tenant,
                    state="open",
                    channel=data.channel.value,
                    thread=data.thread_key,
                    customer=data.customer.model_dump_json(),
                    opened_at=envelope.at,
                    updated_at=envelope.at,
                )
            )
        case ComplexityScored():
            complexity = data.model_dump(exclude={"conversation_id"}, mode="json")
            await _conversation(session, envelope, complexity=json.dumps(complexity))
        case HandedToBot():
            await _conversation(session, envelope, state="bot")
        case ConversationQueued():
            await _conversation(
                session, envelope, state="waiting", queue_id=data.queue_id, agent_id=None
            )
        case OfferCreated():
            session.add(
                ReadOffer(
                    offer_id=data.offer_id,
                    tenant=envelope.tenant,
                    conversation_id=data.conversation_id,
                    agent_id=data.agent_id,
                    queue_id=data.queue_id,
                    expires_at=data.expires_at,
                    state="open",
                )
            )
            await _conversation(session, envelope, state="offered")
        case OfferExpired() | OfferDeclined():
            state = "expired" if isinstance(data, OfferExpired) else "declined"
            await _offer(session, data.offer_id, state)
            await _conversation(session, envelope, state="waiting")
        case ConversationAssigned():
            if data.offer_id:
                await _offer(session, data.offer_id, "accepted")
            await _conversation(session, envelope, state="assigned", agent_id=data.agent_id)
        case ConversationTransferred():
            await _conversation(session, envelope, agent_id=data.to_agent_id)
        case ConversationClosed() | ConversationAbandoned():
            state = "closed" if isinstance(data, ConversationClosed) else "abandoned"
            await _conversation(session, envelope, state=state)
        case MessageAppended():
            session.add(
                ReadMessage(
                    message_id=data.message_id,
                    conversation_id=data.conversation_id,
                    sender=data.sender.value,
                    agent_id=data.agent_id,
                    text=data.text,
                    at=envelope.at,
                )
            )
        case _:
            pass  # agent status changes by the router: shown by the statistics to come


async def _conversation(session: AsyncSession, envelope: Envelope, **values: object) -> None:
    await session.execute(
        update(ReadConversation)
        .where(ReadConversation.conversation_id == envelope.data.conversation_id)  # type: ignore[attr-defined]
        .values(updated_at=envelope.at, **values)
    )


async def _offer(session: AsyncSession, offer_id: str, state: str) -> None:
    await session.execute(
        update(ReadOffer).where(ReadOffer.offer_id == offer_id).values(state=state)
    )
