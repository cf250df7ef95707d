"""Live queue statistics and estimated waits (docs/wait-times.md explains the method).

Plain functions over what the read model holds: each conversation's times in its
queue, and each agent's configuration, presence and load. The API loads those
(services/agents/api/queues.py) and these functions turn them into figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from statistics import fmean
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from services.agents import erlang
from shared.events import AgentStatus, AgentUpserted, Channel, QueueUpserted

DEFAULT_HANDLE_S = 300.0  # a queue's handle time until it has closed conversations today
ARRIVALS_WINDOW = timedelta(hours=1)
HISTORY_WINDOW = timedelta(hours=1)  # the longest history GET /v1/queues/{id}/history gives
RECENT = timedelta(minutes=15)
TRUST = 10  # recent observed waits weigh n / (n + TRUST) against the model
WAITING = frozenset({"waiting", "offered"})


@dataclass(frozen=True)
class Stay:
    """One conversation's time in a queue."""

    conversation_id: str
    channel: Channel
    state: str
    priority: int
    waiting_since: datetime | None
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    # When the agent's slot was free again: the close, or the end of its wrap-up (None
    # while the wrap-up runs). The handle time counts to here, as contact centers do.
    freed_at: datetime | None

    @property
    def waited_s(self) -> float | None:
        """From entering the queue to the first answer."""
        if self.queued_at is None or self.answered_at is None:
            return None
        return (self.answered_at - self.queued_at).total_seconds()


@dataclass(frozen=True)
class LiveAgent:
    config: AgentUpserted
    status: AgentStatus
    load: dict[Channel, int]
    reason: str | None = None  # why away or offline, if the agent said
    since: datetime | None = None  # in this status (and reason)

    @property
    def occupancy(self) -> float | None:
        """Share of the agent's capacity in use now (None without capacity)."""
        capacity = sum(self.config.capacity.values())
        return min(1.0, sum(self.load.values()) / capacity) if capacity else None

    def serves(self, queue: QueueUpserted) -> bool:
        """Holds the queue's skills at the required proficiency, on one of its channels."""
        return any(self.config.capacity.get(c, 0) > 0 for c in queue.channels) and all(
            self.config.skills.get(skill, 0) >= level
            for skill, level in queue.required_skills.items()
        )

    def slots(self, channels: Iterable[Channel]) -> int:
        """Conversations on these channels the agent can hold at once."""
        return max((self.config.capacity.get(c, 0) for c in channels), default=0)

    def has_room(self, queue: QueueUpserted) -> bool:
        return any(self.load.get(c, 0) < self.config.capacity.get(c, 0) for c in queue.channels)


class Staffing(BaseModel):
    available: int = Field(description="Agents present who can take one more conversation now.")
    busy: int = Field(description="Agents present at full capacity for this queue.")
    away: int
    slots: int = Field(description="Conversations the present agents can hold at once.")


class EwtStatus(StrEnum):
    ESTIMATED = "estimated"
    UNSTABLE = "unstable"  # offered load >= staffed capacity: the queue grows
    UNSTAFFED = "unstaffed"  # no agent present who serves the queue


@dataclass(frozen=True)
class Estimate:
    ewt_s: float | None
    status: EwtStatus
    load_erlangs: float


class ServiceLevel(BaseModel):
    target_s: int
    target_pct: float
    last_15_min: float | None = Field(description="Share answered within target; null if none.")
    today: float | None


class QueueStatistics(BaseModel):
    waiting: int = Field(description="Conversations in the queue, offered ones included.")
    longest_wait_s: float | None
    ewt_s: float | None = Field(description="Expected wait of a conversation arriving now.")
    ewt_status: EwtStatus
    offered_load_erlangs: float
    asa_s: float | None = Field(description="Average speed of answer today.")
    service_level: ServiceLevel
    abandonment_rate: float | None = Field(description="Abandoned / (answered + abandoned), today.")
    aht_s: float | None = Field(description="Average handle time of conversations closed today.")
    agents: Staffing


def staffing(
    queue: QueueUpserted, agents: Iterable[LiveAgent], stays: Iterable[Stay] = ()
) -> Staffing:
    """Who serves the queue now. Slots count each present agent's capacity on the
    channels the queue's conversations come from (a chat queue is not staffed by
    email capacity), or on all its channels before any came."""
    channels = {stay.channel for stay in stays} or set(queue.channels)
    serving = [agent for agent in agents if agent.serves(queue)]
    present = [agent for agent in serving if agent.status is AgentStatus.AVAILABLE]
    with_room = sum(agent.has_room(queue) for agent in present)
    return Staffing(
        available=with_room,
        busy=len(present) - with_room,
        away=sum(agent.status is AgentStatus.AWAY for agent in serving),
        slots=sum(agent.slots(channels) for agent in present),
    )


def estimate(
    *,
    arrivals_per_s: float,
    handle_s: float,
    slots: int,
    waiting: int,
    recent_waits_s: Sequence[float],
) -> Estimate:
    """The wait of a conversation arriving now.

    The model: with people already waiting, every slot is busy and the newcomer is
    answered after waiting + 1 departures; with none waiting, Erlang C's mean wait.
    Blended with the waits observed lately, which catch what the model does not
    (breaks, long conversations) and weigh more the more of them there are."""
    load = arrivals_per_s * handle_s
    if slots <= 0:
        return Estimate(None, EwtStatus.UNSTAFFED, load)
    if load >= slots:
        return Estimate(None, EwtStatus.UNSTABLE, load)
    if waiting:
        model = erlang.wait_behind(waiting, slots, handle_s)
    else:
        model = erlang.average_speed_of_answer(load, slots, handle_s) or 0.0
    if not recent_waits_s:
        return Estimate(model, EwtStatus.ESTIMATED, load)
    weight = len(recent_waits_s) / (len(recent_waits_s) + TRUST)
    return Estimate(
        (1 - weight) * model + weight * fmean(recent_waits_s), EwtStatus.ESTIMATED, load
    )


def queue_order(stays: Iterable[Stay]) -> list[Stay]:
    """Waiting conversations in the order they leave: priority, then time waited."""
    waiting = [s for s in stays if s.state in WAITING and s.waiting_since is not None]
    return sorted(waiting, key=lambda s: (-s.priority, s.waiting_since))


def handle_time_s(stays: Iterable[Stay], since: datetime) -> float | None:
    handled = [
        (s.freed_at - s.answered_at).total_seconds()
        for s in stays
        if s.state == "closed" and s.answered_at and s.freed_at and s.freed_at >= since
    ]
    return fmean(handled) if handled else None


def start_of_day(queue: QueueUpserted, now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(queue.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def queue_statistics(
    queue: QueueUpserted, stays: Sequence[Stay], agents: Iterable[LiveAgent], now: datetime
) -> QueueStatistics:
    today = start_of_day(queue, now)
    waiting = queue_order(stays)
    staffed = staffing(queue, agents, stays)
    answered_today = [s for s in stays if s.answered_at and s.answered_at >= today]
    waits_today = [w for s in answered_today if (w := s.waited_s) is not None]
    recent_waits = [
        w
        for s in answered_today
        if (w := s.waited_s) is not None and s.answered_at and s.answered_at >= now - RECENT
    ]
    arrivals = sum(1 for s in stays if s.queued_at and s.queued_at >= now - ARRIVALS_WINDOW)
    aht = handle_time_s(stays, today)
    ewt = estimate(
        arrivals_per_s=arrivals / ARRIVALS_WINDOW.total_seconds(),
        handle_s=aht or DEFAULT_HANDLE_S,
        slots=staffed.slots,
        waiting=len(waiting),
        recent_waits_s=recent_waits,
    )
    abandoned_today = [
        s for s in stays if s.state == "abandoned" and s.ended_at and s.ended_at >= today
    ]
    outcomes = len(answered_today) + len(abandoned_today)
    return QueueStatistics(
        waiting=len(waiting),
        longest_wait_s=max(
            ((now - s.waiting_since).total_seconds() for s in waiting if s.waiting_since),
            default=None,
        ),
        ewt_s=ewt.ewt_s,
        ewt_status=ewt.status,
        offered_load_erlangs=round(ewt.load_erlangs, 3),
        asa_s=fmean(waits_today) if waits_today else None,
        service_level=ServiceLevel(
            target_s=queue.service_level_target_s,
            target_pct=queue.service_level_target_pct,
            last_15_min=service_level(queue, stays, now - RECENT),
            today=service_level(queue, stays, today),
        ),
        abandonment_rate=len(abandoned_today) / outcomes if outcomes else None,
        aht_s=aht,
        agents=staffed,
    )


def service_level(
    queue: QueueUpserted, stays: Iterable[Stay], since: datetime, until: datetime | None = None
) -> float | None:
    """Answered within target / (answered + abandoned after the target), between `since`
    and `until` (now when None).

    Customers who gave up before the target are left out: no desk could have kept them."""
    target = queue.service_level_target_s

    def inside(moment: datetime | None) -> bool:
        return moment is not None and since <= moment and (until is None or moment <= until)

    within = late = 0
    for stay in stays:
        if inside(stay.answered_at) and stay.waited_s is not None:
            within += stay.waited_s <= target
            late += stay.waited_s > target
        elif stay.state == "abandoned" and inside(stay.ended_at) and stay.ended_at:
            waited = (stay.ended_at - (stay.queued_at or stay.ended_at)).total_seconds()
            late += waited > target
    return within / (within + late) if within + late else None


@dataclass(frozen=True)
class Position:
    position: int
    estimated_wait_s: float | None


def positions(stays: Iterable[Stay], slots: int, handle_s: float) -> dict[str, Position]:
    """Each waiting conversation's place in line (1 = next) and its expected wait."""
    return {
        stay.conversation_id: Position(
            place, erlang.wait_behind(place - 1, slots, handle_s) if slots > 0 else None
        )
        for place, stay in enumerate(queue_order(stays), start=1)
    }


class HistoryPoint(BaseModel):
    at: datetime
    waiting: int
    service_level: float | None = Field(description="Over the 15 minutes before `at`.")


def history(
    queue: QueueUpserted, stays: Sequence[Stay], now: datetime, *, minutes: int, step_s: int = 60
) -> list[HistoryPoint]:
    """Waiting conversations and service level at each step of the last `minutes`, worked
    out from the conversations' times (a conversation transferred back into a queue counts
    from its first entry)."""

    def waiting_at(moment: datetime) -> int:
        return sum(
            1
            for s in stays
            if s.queued_at is not None
            and s.queued_at <= moment
            and (s.answered_at is None or s.answered_at > moment)
            and (s.ended_at is None or s.ended_at > moment)
        )

    steps = minutes * 60 // step_s
    moments = [now - timedelta(seconds=step_s * n) for n in range(steps, -1, -1)]
    return [
        HistoryPoint(
            at=moment,
            waiting=waiting_at(moment),
            service_level=service_level(queue, stays, moment - RECENT, moment),
        )
        for moment in moments
    ]
