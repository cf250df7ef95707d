"""What a customer waiting in the web chat may know: their place in line and the
expected wait. Public (the widget has no API key); it tells nothing but those two
numbers, and only for a chat session id, which only that customer's browser holds."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from sqlalchemy import select

from services.agents import live
from shared.db.models import ReadConversation
from shared.events import Channel
from shared.runtime import RuntimeDep

router = APIRouter(prefix="/v1/public", tags=["web chat"])
FRESH_S = 2.0  # places and waits may be this old


class ChatWait(BaseModel):
    waiting: bool
    position: int | None
    ewt_s: float | None


@router.get("/chat/{session_id}/wait")
async def chat_wait(session_id: str, runtime: RuntimeDep) -> ChatWait:
    async with runtime.reads() as session:
        row = await session.scalar(
            select(ReadConversation)
            .where(
                ReadConversation.channel == Channel.CHAT.value,
                ReadConversation.thread == session_id,
            )
            .order_by(ReadConversation.opened_at.desc())
            .limit(1)
        )
    if row is None:
        raise HTTPException(404, "no conversation for this chat session")
    desk = await live.recent_desk(runtime.reads, row.tenant, max_age_s=FRESH_S)
    place = desk.positions().get(row.conversation_id)
    if place is None:
        return ChatWait(waiting=False, position=None, ewt_s=None)
    return ChatWait(waiting=True, position=place.position, ewt_s=place.estimated_wait_s)
