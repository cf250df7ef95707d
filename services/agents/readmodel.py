"""The read model: what the router decided (cc.routing.v1), kept for the API to query.

Each event is applied once: its id is stored in the same transaction as its
effect, so a redelivered event (after a crash, or the relay publishing twice)
changes nothing. A batch of events is applied with the rows it touches loaded in a
few queries up front and its changes written at commit: on SQLite the read model
holds the one write lock while it applies, and a round trip per event (as it was)
held it 300 ms a batch at 20 messages a second, queueing every other writer.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agents import metrics
from shared.bus.consumer import consume
from shared.db.models import (
    AppliedEvent,
    ReadAgent,
    ReadConversation,
    ReadMessage,
    ReadOffer,
    ReadSurvey,
)
from shared.events import (
    ROUTING,
    AgentStatusChanged,
    ComplexityScored,
    ConversationAbandoned,
    ConversationAssigned,
    ConversationClosed,
    ConversationOpened,
    ConversationQueued,
    ConversationTransferred,
    Envelope,
    HandedToBot,
    InvalidRecord,
    MessageAppended,
    OfferCreated,
    OfferDeclined,
    OfferExpired,
    OfferWithdrawn,
    Payload,
    Sender,
    SurveyAnswered,
    SurveySent,
    WrapUpEnded,
    WrapUpStarted,
    decode,
    new_event_id,
)
from shared.runtime import Runtime

GROUP = "agents-readmodel"
FIRST_FETCH_S = 10.0
CAUGHT_UP_S = 2.0  # no record for this long: the replay reached the end of the topic


async def project(runtime: Runtime) -> None:
    """Worker: apply every routing event to the read model."""

    async def apply_batch(envelopes: Sequence[Envelope]) -> None:
        async with runtime.sessions() as session, session.begin():
            await apply(session, envelopes)
        runtime.notify(subject for envelope in envelopes for subject in subjects(envelope))

    async def apply_one(envelope: Envelope) -> None:
        await apply_batch([envelope])

    await consume(
        runtime.bus, [ROUTING], GROUP, apply_one, batch_handler=apply_batch, stop=runtime.stop
    )


def agent_subject(tenant: str, agent_id: str) -> str:
    """What an agent's offers long poll waits on."""
    return f"agent:{tenant}:{agent_id}"


def conversation_subject(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def cause_subject(event_id: str) -> str:
    """What a command waiting for its verdict waits on: events it caused."""
    return f"cause:{event_id}"


def subjects(envelope: Envelope) -> list[str]:
    """The long polls a routing event may answer."""
    data = envelope.data
    found = []
    if (conversation_id := getattr(data, "conversation_id", None)) is not None:
        found.append(conversation_subject(conversation_id))
    if (agent_id := getattr(data, "agent_id", None)) is not None:
        found.append(agent_subject(envelope.tenant, agent_id))
    if envelope.causation is not None:
        found.append(cause_subject(envelope.causation))
    return found


async def rebuild(runtime: Runtime, *, progress: Callable[[int], None]) -> int:
    """Empty the read model and apply cc.routing.v1 again from its first record; returns
    the number of events applied. Run it with no other agents process projecting: their
    writes would interleave with the replay. A topic whose retention dropped old records
    rebuilds only what it still holds."""
    async with runtime.sessions() as session, session.begin():
        tables = (AppliedEvent, ReadMessage, ReadOffer, ReadConversation, ReadAgent, ReadSurvey)
        for table in tables:
            await session.execute(delete(table))
    applied = 0
    # A group of its own reads from the start; the service's group then goes on from where
    # it was, and what the replay already applied it skips by event id.
    group = f"{GROUP}-rebuild-{new_event_id()}"
    async with runtime.bus.subscribe([ROUTING], group) as subscription:
        timeout_s = FIRST_FETCH_S  # joining a Kafka group takes a moment
        while records := await subscription.fetch(timeout_s=timeout_s):
            envelopes = []
            for record in records:
                with contextlib.suppress(InvalidRecord):  # dead-lettered the first time
                    envelopes.append(decode(record.value, topic=ROUTING))
            async with runtime.sessions() as session, session.begin():
                await apply(session, envelopes)
            await subscription.commit(records)
            applied += len(records)
            progress(applied)
            timeout_s = CAUGHT_UP_S
    return applied


@dataclass
class _Rows:
    """The rows a batch touches, by key: loaded once, or added by the batch itself."""

    conversations: dict[str, ReadConversation]
    offers: dict[str, ReadOffer]
    # Messages stored already: a reply command the router decides twice (the agents'
    # relay, killed between publishing and forgetting it, published it twice; or a desk
    # sent it again with its Idempotency-Key) gives a second MessageAppended, under an
    # event id of its own, that names the same message.
    messages: set[str]
    agents: dict[tuple[str, str], ReadAgent | None] = field(default_factory=dict)
    surveys: dict[tuple[str, str], ReadSurvey | None] = field(default_factory=dict)


async def apply(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """Apply the events the read model has not applied yet, in order."""
    ids = [envelope.id for envelope in envelopes]
    applied = set(
        await session.scalars(select(AppliedEvent.event_id).where(AppliedEvent.event_id.in_(ids)))
    )
    conversation_ids = {
        cid for e in envelopes if (cid := getattr(e.data, "conversation_id", None)) is not None
    }
    offer_ids = {oid for e in envelopes if (oid := getattr(e.data, "offer_id", None)) is not None}
    message_ids = [e.data.message_id for e in envelopes if isinstance(e.data, MessageAppended)]
    rows = _Rows(
        conversations={
            row.conversation_id: row
            for row in await session.scalars(
                select(ReadConversation).where(
                    ReadConversation.conversation_id.in_(conversation_ids)
                )
            )
        },
        offers={
            row.offer_id: row
            for row in await session.scalars(
                select(ReadOffer).where(ReadOffer.offer_id.in_(offer_ids))
            )
        },
        messages=set(
            await session.scalars(
                select(ReadMessage.message_id).where(ReadMessage.message_id.in_(message_ids))
            )
        )
        if message_ids
        else set(),
    )
    with session.no_autoflush:  # what the batch adds is in `rows`; written at commit
        for envelope in envelopes:
            if envelope.id not in applied:
                applied.add(envelope.id)  # the same event twice in one batch: once
                await _apply(session, rows, envelope)


async def _apply(session: AsyncSession, rows: _Rows, envelope: Envelope) -> None:
    data = envelope.data
    conversation_id = getattr(data, "conversation_id", None)
    session.add(
        AppliedEvent(
            event_id=envelope.id,
            type=envelope.type,
            causation=envelope.causation,
            conversation_id=conversation_id,
            at=envelope.at,
            detail=None if isinstance(data, MessageAppended) else _detail(data),
        )
    )
    at = envelope.at
    if isinstance(data, AgentStatusChanged):
        key = (envelope.tenant, data.agent_id)
        if key not in rows.agents:
            rows.agents[key] = await session.get(ReadAgent, key)
        if (agent := rows.agents[key]) is None:
            agent = ReadAgent(tenant=envelope.tenant, agent_id=data.agent_id)
            session.add(agent)
            rows.agents[key] = agent
        agent.status, agent.since, agent.reason = data.status, at, data.reason
        return
    if isinstance(data, ConversationOpened):
        conversation = ReadConversation(
            conversation_id=data.conversation_id,
            tenant=envelope.tenant,
            state="open",
            channel=data.channel.value,
            thread=data.thread_key,
            customer=data.customer.model_dump_json(),
            customer_id=data.customer.id,
            opened_at=at,
            updated_at=at,
        )
        session.add(conversation)
        rows.conversations[data.conversation_id] = conversation
        return
    if isinstance(data, MessageAppended):
        if data.message_id in rows.messages:
            return
        rows.messages.add(data.message_id)
        session.add(
            ReadMessage(
                message_id=data.message_id,
                conversation_id=data.conversation_id,
                sender=data.sender.value,
                agent_id=data.agent_id,
                text=data.text,
                at=at,
            )
        )
        row = rows.conversations.get(data.conversation_id)
        if row is not None and data.sender is not Sender.CUSTOMER:
            row.first_response_at = row.first_response_at or at
        return
    if isinstance(data, SurveySent | SurveyAnswered):
        await _survey(session, rows, envelope.tenant, data, at)
        return
    if isinstance(data, OfferCreated):
        offer = ReadOffer(
            offer_id=data.offer_id,
            tenant=envelope.tenant,
            conversation_id=data.conversation_id,
            agent_id=data.agent_id,
            queue_id=data.queue_id,
            expires_at=data.expires_at,
            state="open",
        )
        session.add(offer)
        rows.offers[data.offer_id] = offer
    elif isinstance(data, OfferExpired | OfferDeclined | OfferWithdrawn):
        _offer_ends(rows, data.offer_id, OFFER_ENDS[type(data)])
    elif isinstance(data, ConversationAssigned) and data.offer_id:
        _offer_ends(rows, data.offer_id, "accepted")
    if conversation_id is not None and (row := rows.conversations.get(conversation_id)):
        row.updated_at = at
        _follow(row, data, at)


OFFER_ENDS: dict[type[Payload], str] = {
    OfferExpired: "expired",
    OfferDeclined: "declined",
    OfferWithdrawn: "withdrawn",
}


def _follow(row: ReadConversation, data: Payload, at: datetime) -> None:
    """Move the conversation's row along with the routing decision."""
    match data:
        case ComplexityScored():
            complexity = data.model_dump(exclude={"conversation_id"}, mode="json")
            row.complexity = json.dumps(complexity)
        case HandedToBot():
            row.state, row.bot_handled = "bot", True
        case ConversationQueued():
            row.state, row.queue_id, row.agent_id = "waiting", data.queue_id, None
            row.priority, row.waiting_since = data.priority, at
            row.queued_at = row.queued_at or at
        case OfferCreated():
            row.state = "offered"
        case OfferExpired() | OfferDeclined() | OfferWithdrawn():
            row.state = "waiting"  # back in its queue; a close or transfer that withdrew it follows
        case ConversationAssigned():
            row.state, row.agent_id, row.waiting_since = "assigned", data.agent_id, None
            if row.answered_at is None:
                row.answered_at = at
                _observe_wait("answered", row, at)
        case ConversationTransferred():
            # Already where it is going, for whoever reads it before the queueing or the
            # offer that follows lands.
            row.agent_id = data.to_agent_id
            if data.to_queue_id is not None:
                row.state, row.queue_id = "waiting", data.to_queue_id
                row.waiting_since = at
            else:
                row.state = "offered"
        case ConversationClosed():
            row.state, row.ended_at, row.waiting_since = "closed", at, None
            row.disposition = data.disposition
        case ConversationAbandoned():
            row.state, row.ended_at, row.waiting_since = "abandoned", at, None
            _observe_wait("abandoned", row, at)
        case WrapUpStarted():
            row.wrap_up_until = data.until
        case WrapUpEnded():
            row.wrap_up_ended_at = at
        case _:
            pass  # a refused transfer changes nothing but the history


async def _survey(
    session: AsyncSession,
    rows: _Rows,
    tenant: str,
    data: SurveySent | SurveyAnswered,
    at: datetime,
) -> None:
    key = (data.conversation_id, data.survey)
    if key not in rows.surveys:
        rows.surveys[key] = await session.get(ReadSurvey, key)
    survey = rows.surveys[key]
    if isinstance(data, SurveySent):
        if survey is None:
            conversation = rows.conversations.get(data.conversation_id)
            rows.surveys[key] = ReadSurvey(
                conversation_id=data.conversation_id,
                survey=data.survey,
                tenant=tenant,
                queue_id=conversation.queue_id if conversation else None,
                channel=conversation.channel if conversation else "",
                sent_at=at,
            )
            session.add(rows.surveys[key])
    elif survey is not None and survey.score is None:  # one answer per conversation
        survey.score, survey.answered_at = data.score, at


def _observe_wait(outcome: str, row: ReadConversation, at: datetime) -> None:
    if row.queued_at is not None:
        waited = at - row.queued_at
        metrics.QUEUE_WAIT.labels(outcome).observe(waited.total_seconds())


def _detail(data: Payload) -> str:
    return data.model_dump_json(exclude={"conversation_id"}, exclude_none=True)


def _offer_ends(rows: _Rows, offer_id: str, state: str) -> None:
    if (offer := rows.offers.get(offer_id)) is not None:
        offer.state = state
