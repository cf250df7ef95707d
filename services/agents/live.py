"""What the desk looks like now: the read model and the configuration, loaded for the
statistics (services/agents/statistics.py)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.agents import configuration
from services.agents.statistics import (
    DEFAULT_HANDLE_S,
    HISTORY_WINDOW,
    RECENT,
    WAITING,
    HistoryPoint,
    LiveAgent,
    Position,
    QueueStatistics,
    Stay,
    handle_time_s,
    history,
    positions,
    queue_statistics,
    staffing,
    start_of_day,
)
from shared.db.models import ReadAgent, ReadConversation
from shared.events import AgentStatus, AgentUpserted, Channel, QueueUpserted, utcnow


@dataclass(frozen=True)
class Desk:
    queues: list[QueueUpserted]
    agents: list[LiveAgent]
    stays: dict[str, list[Stay]]  # by queue id
    now: datetime

    def statistics(self, queue: QueueUpserted) -> QueueStatistics:
        return queue_statistics(queue, self.stays.get(queue.queue_id, []), self.agents, self.now)

    def history(self, queue: QueueUpserted, minutes: int) -> list[HistoryPoint]:
        return history(queue, self.stays.get(queue.queue_id, []), self.now, minutes=minutes)

    def positions(self) -> dict[str, Position]:
        """Place in line and expected wait of every waiting conversation of the tenant."""
        found: dict[str, Position] = {}
        for queue in self.queues:
            stays = self.stays.get(queue.queue_id, [])
            handle_s = handle_time_s(stays, start_of_day(queue, self.now)) or DEFAULT_HANDLE_S
            found |= positions(stays, staffing(queue, self.agents, stays).slots, handle_s)
        return found

    def queues_of(self, agent_id: str) -> list[QueueUpserted]:
        agent = next((a for a in self.agents if a.config.agent_id == agent_id), None)
        return [q for q in self.queues if agent is not None and agent.serves(q)]


async def desk(sessions: async_sessionmaker[AsyncSession], tenant: str, now: datetime) -> Desk:
    queues = await configuration.all_of(sessions, tenant, QueueUpserted)
    configs = [
        agent
        for agent in await configuration.all_of(sessions, tenant, AgentUpserted)
        if agent.active
    ]
    # Enough for "today" in every queue's time zone, the last hour's arrivals, and the
    # last hour's history with the service level of the 15 minutes before each point.
    since = min([now - HISTORY_WINDOW - RECENT, *(start_of_day(q, now) for q in queues)])
    async with sessions() as session:
        presence = {
            row.agent_id: row
            for row in await session.scalars(select(ReadAgent).where(ReadAgent.tenant == tenant))
        }
        loads: dict[str, dict[Channel, int]] = defaultdict(dict)
        for agent_id, channel, count in await session.execute(
            select(ReadConversation.agent_id, ReadConversation.channel, func.count())
            .where(ReadConversation.tenant == tenant, holds_a_slot())
            .group_by(ReadConversation.agent_id, ReadConversation.channel)
        ):
            loads[agent_id or ""][Channel(channel)] = count
        rows = await session.scalars(
            select(ReadConversation).where(
                ReadConversation.tenant == tenant,
                ReadConversation.queue_id.is_not(None),
                or_(
                    ReadConversation.state.in_(WAITING),
                    ReadConversation.queued_at >= since,
                    ReadConversation.answered_at >= since,
                    ReadConversation.ended_at >= since,
                ),
            )
        )
        stays: dict[str, list[Stay]] = defaultdict(list)
        for row in rows:
            stays[row.queue_id or ""].append(_stay(row))
    agents = []
    for config in configs:
        seen = presence.get(config.agent_id)  # None: never signed in
        agents.append(
            LiveAgent(
                config,
                AgentStatus(seen.status) if seen else AgentStatus.OFFLINE,
                loads.get(config.agent_id, {}),
                reason=seen.reason if seen else None,
                since=seen.since if seen else None,
            )
        )
    return Desk(queues, agents, dict(stays), now)


def holds_a_slot() -> ColumnElement[bool]:
    """Conversations that take one of their agent's slots: assigned, or closed with the
    after-contact work still under way."""
    return or_(ReadConversation.state == "assigned", ReadConversation.wrapping_up)


_RECENT: dict[tuple[int, str], tuple[float, Desk]] = {}


async def recent_desk(
    sessions: async_sessionmaker[AsyncSession], tenant: str, max_age_s: float
) -> Desk:
    """The desk as it was at most `max_age_s` ago: for what every waiting customer's
    widget polls, so a busy queue costs one computation a while, not one a customer."""
    key = (id(sessions), tenant)
    cached = _RECENT.get(key)
    if cached is not None and time.monotonic() - cached[0] < max_age_s:
        return cached[1]
    fresh = await desk(sessions, tenant, utcnow())
    _RECENT[key] = (time.monotonic(), fresh)
    return fresh


def _stay(row: ReadConversation) -> Stay:
    return Stay(
        conversation_id=row.conversation_id,
        channel=Channel(row.channel),
        state=row.state,
        priority=row.priority,
        waiting_since=row.waiting_since,
        queued_at=row.queued_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        freed_at=row.wrap_up_ended_at if row.wrap_up_until else row.ended_at,
    )
