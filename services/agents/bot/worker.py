"""The bot at work: it follows cc.routing.v1 and talks through the router.

It takes a conversation when the router scores it for the bot and answers each
customer message: with the built-in FAQ bot (services/agents/bot/dialogue.py), or, for
a tenant with an external bot, by posting the message to it (external.py) and waiting
for its answer through the API. Replies, escalations and resolutions go out as commands
on cc.agent-events.v1, like an agent's desk. Each routing event is acted on once: its
id is stored in the transaction that queues the commands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agents.bot import dialogue, external
from services.agents.bot.faq import best_match, entry_of
from shared.bus.consumer import consume
from shared.config import Settings
from shared.db.models import BotApplied, BotFaq, BotThread, BotWebhook
from shared.db.unit_of_work import UnitOfWork
from shared.events import (
    AGENT_EVENTS,
    ROUTING,
    BotEscalated,
    BotResolved,
    ComplexityScored,
    ConversationAbandoned,
    ConversationClosed,
    ConversationQueued,
    Envelope,
    MessageAppended,
    Payload,
    ReplySent,
    Sender,
    TranscriptLine,
    utcnow,
)
from shared.runtime import Runtime
from shared.stopping import sleep_unless

GROUP = "agents-bot"
DEADLINE_CHECK_S = 1.0


@dataclass(frozen=True)
class Post:
    """A customer message for the tenant's external bot, posted after the commit."""

    webhook: external.Webhook
    payload: dict[str, object]


async def converse(runtime: Runtime) -> None:
    """Worker: the bot's side of every conversation routed to it."""

    async def handle(envelope: Envelope) -> None:
        if not await _concerns_bot(runtime, envelope):
            return
        async with runtime.unit_of_work() as uow:
            if await uow.session.get(BotApplied, envelope.id) is not None:
                return
            uow.session.add(BotApplied(event_id=envelope.id, at=envelope.at))
            commands, post = await act(uow.session, runtime.settings, envelope)
            emit(uow, envelope.tenant, envelope.key, commands, causation=envelope.id)
            await uow.commit()
        if post is not None:
            failure = await external.deliver(post.webhook, post.payload)
            if failure is not None:
                cid = envelope.key
                await hand_over_now(runtime, cid, f"the external bot failed: {failure}")

    await consume(runtime.bus, [ROUTING], GROUP, handle, stop=runtime.stop)


async def _concerns_bot(runtime: Runtime, envelope: Envelope) -> bool:
    """Most routing events are none of the bot's business: they are passed over with a
    read, without a write transaction (which SQLite lets one at a time take)."""
    match envelope.data:
        case ComplexityScored(route="bot"):
            return True
        case (
            MessageAppended(sender=Sender.CUSTOMER, conversation_id=cid)
            | ConversationQueued(conversation_id=cid)
            | ConversationClosed(conversation_id=cid)
            | ConversationAbandoned(conversation_id=cid)
        ):
            async with runtime.reads() as session:
                return await session.get(BotThread, cid) is not None
        case _:
            return False


async def deadlines(runtime: Runtime) -> None:
    """Worker: an external bot that does not answer in time hands over to a person."""
    while not runtime.stop.is_set():
        async with runtime.reads() as session:
            late = (
                await session.scalars(
                    select(BotThread.conversation_id).where(BotThread.answer_due <= utcnow())
                )
            ).all()
        for cid in late:
            await hand_over_now(runtime, cid, "the external bot did not answer in time")
        await sleep_unless(runtime.stop, DEADLINE_CHECK_S)


def emit(
    uow: UnitOfWork, tenant: str, key: str, commands: list[Payload], causation: str | None
) -> None:
    for command in commands:
        uow.emit(AGENT_EVENTS, Envelope.wrap(command, tenant=tenant, key=key, causation=causation))


async def hand_over_now(runtime: Runtime, conversation_id: str, reason: str) -> None:
    """Escalate a conversation the bot still holds (nothing, if it no longer does)."""
    async with runtime.unit_of_work() as uow:
        thread = await uow.session.get(BotThread, conversation_id)
        if thread is None:
            return
        commands = await hand_over(uow.session, thread, reason)
        emit(uow, thread.tenant, conversation_id, commands, causation=None)
        await uow.commit()


async def act(
    session: AsyncSession, settings: Settings, envelope: Envelope
) -> tuple[list[Payload], Post | None]:
    """What the bot does about one routing event: the commands to send, and a message to
    post to the tenant's external bot."""
    match envelope.data:
        case ComplexityScored(route="bot") as scored:
            session.add(
                BotThread(
                    conversation_id=scored.conversation_id,
                    tenant=envelope.tenant,
                    language=scored.language,
                    angry="angry tone" in scored.reasons,
                    turns=0,
                    awaiting_feedback=False,
                    transcript="[]",
                    intents=json.dumps(scored.intents),
                )
            )
        case MessageAppended(sender=Sender.CUSTOMER) as message:
            thread = await session.get(BotThread, message.conversation_id)
            if thread is None:
                return [], None
            add_line(thread, Sender.CUSTOMER, message.text, envelope.at)
            webhook = await session.get(BotWebhook, thread.tenant)
            if webhook is None:
                return await _answer(session, settings, thread, message.text, envelope.at), None
            thread.answer_due = envelope.at + timedelta(seconds=webhook.timeout_s)
            payload = external.message_event(thread, message, envelope.at)
            return [], Post(
                external.Webhook(webhook.url, webhook.secret, webhook.timeout_s), payload
            )
        case ConversationQueued() | ConversationClosed() | ConversationAbandoned():
            # A person (or nobody) has it now.
            if thread := await session.get(BotThread, envelope.data.conversation_id):
                await session.delete(thread)
        case _:
            pass
    return [], None


def add_line(thread: BotThread, sender: Sender, text: str, at: datetime) -> None:
    lines = json.loads(thread.transcript)
    lines.append(TranscriptLine(sender=sender, text=text, at=at).model_dump(mode="json"))
    thread.transcript = json.dumps(lines)


async def hand_over(session: AsyncSession, thread: BotThread, reason: str) -> list[Payload]:
    """Escalate with the transcript; the bot lets go of the conversation."""
    transcript = tuple(
        TranscriptLine.model_validate(line) for line in json.loads(thread.transcript)
    )
    await session.delete(thread)
    return [
        BotEscalated(conversation_id=thread.conversation_id, reason=reason, transcript=transcript)
    ]


async def _answer(
    session: AsyncSession, settings: Settings, thread: BotThread, text: str, at: datetime
) -> list[Payload]:
    faq = [
        entry_of(row)
        for row in await session.scalars(select(BotFaq).where(BotFaq.tenant == thread.tenant))
    ]
    # The router scored the first message only: later ones are matched by their words.
    intents = json.loads(thread.intents) if thread.turns == 0 else []

    def find(question: str, language: str) -> dialogue.Match | None:
        return best_match([e for e in faq if e.language == language] or faq, question, intents)

    step = dialogue.next_step(
        dialogue.Thread(thread.language, thread.angry, thread.turns, thread.awaiting_feedback),
        text,
        find,
        confidence=settings.bot_confidence,
        max_turns=settings.bot_max_turns,
    )
    cid = thread.conversation_id
    commands: list[Payload] = []
    for reply in step.replies:
        commands.append(ReplySent(conversation_id=cid, sender=Sender.BOT, text=reply))
        add_line(thread, Sender.BOT, reply, at)
    if step.escalate is not None:
        return commands + await hand_over(session, thread, step.escalate)
    if step.resolved:
        await session.delete(thread)
        return [*commands, BotResolved(conversation_id=cid)]
    thread.turns, thread.awaiting_feedback = step.thread.turns, step.thread.awaiting_feedback
    return commands
