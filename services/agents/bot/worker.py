"""The built-in bot at work: it follows cc.routing.v1 and talks through the router.

It takes a conversation when the router scores it for the bot, answers each customer
message (services/agents/bot/dialogue.py), and sends its replies, escalations and
resolutions as commands on cc.agent-events.v1, like an agent's desk. Each routing event
is acted on once: its id is stored in the transaction that queues the commands.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agents.bot import dialogue
from services.agents.bot.faq import FaqEntry, best_match
from shared.bus.consumer import consume
from shared.config import Settings
from shared.db.models import BotApplied, BotFaq, BotThread
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
)
from shared.runtime import Runtime

GROUP = "agents-bot"


async def converse(runtime: Runtime) -> None:
    """Worker: the bot's side of every conversation routed to it."""

    async def handle(envelope: Envelope) -> None:
        async with UnitOfWork(runtime.sessions) as uow:
            if await uow.session.get(BotApplied, envelope.id) is not None:
                return
            uow.session.add(BotApplied(event_id=envelope.id, at=envelope.at))
            for command in await act(uow.session, runtime.settings, envelope):
                uow.emit(
                    AGENT_EVENTS,
                    Envelope.wrap(
                        command,
                        tenant=envelope.tenant,
                        key=envelope.key,
                        causation=envelope.id,
                    ),
                )
            await uow.commit()

    await consume(runtime.bus, [ROUTING], GROUP, handle, stop=runtime.stop)


async def act(session: AsyncSession, settings: Settings, envelope: Envelope) -> list[Payload]:
    """What the bot does about one routing event: the commands to send."""
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
                )
            )
        case MessageAppended(sender=Sender.CUSTOMER) as message:
            thread = await session.get(BotThread, message.conversation_id)
            if thread is not None:
                return await _answer(session, settings, thread, message.text, envelope.at)
        case ConversationQueued() | ConversationClosed() | ConversationAbandoned():
            # A person (or nobody) has it now.
            if thread := await session.get(BotThread, envelope.data.conversation_id):
                await session.delete(thread)
        case _:
            pass
    return []


async def _answer(
    session: AsyncSession, settings: Settings, thread: BotThread, text: str, at: datetime
) -> list[Payload]:
    faq = [
        FaqEntry(faq_id=r.faq_id, language=r.language, question=r.question, answer=r.answer)
        for r in await session.scalars(select(BotFaq).where(BotFaq.tenant == thread.tenant))
    ]

    def find(question: str, language: str) -> dialogue.Match | None:
        return best_match([e for e in faq if e.language == language] or faq, question)

    step = dialogue.next_step(
        dialogue.Thread(thread.language, thread.angry, thread.turns, thread.awaiting_feedback),
        text,
        find,
        confidence=settings.bot_confidence,
        max_turns=settings.bot_max_turns,
    )
    cid = thread.conversation_id
    lines = [TranscriptLine.model_validate(line) for line in json.loads(thread.transcript)]
    lines.append(TranscriptLine(sender=Sender.CUSTOMER, text=text, at=at))
    commands: list[Payload] = []
    for reply in step.replies:
        commands.append(ReplySent(conversation_id=cid, sender=Sender.BOT, text=reply))
        lines.append(TranscriptLine(sender=Sender.BOT, text=reply, at=at))
    if step.escalate is not None:
        commands.append(
            BotEscalated(conversation_id=cid, reason=step.escalate, transcript=tuple(lines))
        )
    elif step.resolved:
        commands.append(BotResolved(conversation_id=cid))
    if step.escalate is not None or step.resolved:
        await session.delete(thread)
    else:
        thread.turns, thread.awaiting_feedback = step.thread.turns, step.thread.awaiting_feedback
        thread.transcript = json.dumps([line.model_dump(mode="json") for line in lines])
    return commands
