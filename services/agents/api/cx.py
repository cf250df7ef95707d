"""GET /v1/cx/summary: how customers fared over a period (supervisors and admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import select

from services.agents import cx
from services.agents.auth import Principal, Role, allow
from shared.db.models import ReadConversation, ReadSurvey
from shared.events import Channel, utcnow
from shared.runtime import RuntimeDep

router = APIRouter(prefix="/v1/cx", tags=["customer experience"])

Reader = Annotated[Principal, Depends(allow(Role.SUPERVISOR, Role.ADMIN))]


class Csat(BaseModel):
    score: float | None  # share of 4-5 answers
    answers: int


class Containment(BaseModel):
    rate: float | None  # resolved by the bot / handled by the bot
    handled: int
    resolved: int


class Percentiles(BaseModel):
    p50: float | None
    p90: float | None
    count: int


class Summary(BaseModel):
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    conversations: int
    csat: Csat
    nps: cx.Nps
    response_rate: float | None  # surveys answered / surveys sent
    bot_containment: Containment
    first_response_s: Percentiles
    resolution_s: Percentiles


def _percentiles(values: list[float]) -> Percentiles:
    return Percentiles(
        p50=cx.percentile(values, 0.5), p90=cx.percentile(values, 0.9), count=len(values)
    )


@router.get("/summary")
async def summary(
    principal: Reader,
    runtime: RuntimeDep,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    queue: str | None = None,
    channel: Channel | None = None,
) -> Summary:
    """Conversations opened and surveys sent between `from` (default: today 00:00 UTC)
    and `to` (default: now), optionally of one queue or channel."""
    end = to or utcnow()
    start = from_ or end.replace(hour=0, minute=0, second=0, microsecond=0)
    if start >= end:
        raise HTTPException(422, "`from` must come before `to`")
    conversations = select(ReadConversation).where(
        ReadConversation.tenant == principal.tenant,
        ReadConversation.opened_at >= start,
        ReadConversation.opened_at < end,
    )
    surveys = select(ReadSurvey).where(
        ReadSurvey.tenant == principal.tenant, ReadSurvey.sent_at >= start, ReadSurvey.sent_at < end
    )
    if queue is not None:
        conversations = conversations.where(ReadConversation.queue_id == queue)
        surveys = surveys.where(ReadSurvey.queue_id == queue)
    if channel is not None:
        conversations = conversations.where(ReadConversation.channel == channel.value)
        surveys = surveys.where(ReadSurvey.channel == channel.value)
    async with runtime.reads() as session:
        rows = (await session.scalars(conversations)).all()
        sent = (await session.scalars(surveys)).all()
    answered = [s for s in sent if s.score is not None]
    csat_scores = [s.score for s in answered if s.survey == "csat" and s.score is not None]
    nps_scores = [s.score for s in answered if s.survey == "nps" and s.score is not None]
    handled = [r for r in rows if r.bot_handled]
    resolved = [r for r in handled if r.disposition == "resolved_by_bot"]
    return Summary(
        from_=start,
        to=end,
        conversations=len(rows),
        csat=Csat(score=cx.csat(csat_scores), answers=len(csat_scores)),
        nps=cx.nps(nps_scores),
        response_rate=cx.rate(len(answered), len(sent)),
        bot_containment=Containment(
            rate=cx.rate(len(resolved), len(handled)),
            handled=len(handled),
            resolved=len(resolved),
        ),
        first_response_s=_percentiles(
            [
                (r.first_response_at - r.opened_at).total_seconds()
                for r in rows
                if r.first_response_at
            ]
        ),
        resolution_s=_percentiles(
            [
                (r.ended_at - r.opened_at).total_seconds()
                for r in rows
                if r.state == "closed" and r.ended_at
            ]
        ),
    )
