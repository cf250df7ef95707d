"""Queue statistics and estimated waits, on hand-made histories with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.agents.statistics import (
    TRUST,
    EwtStatus,
    LiveAgent,
    Stay,
    estimate,
    history,
    positions,
    queue_statistics,
)
from shared.events import AgentStatus, AgentUpserted, Channel, QueueUpserted
from tests.unit.agents.test_erlang import closed_form

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
BILLING = QueueUpserted(
    queue_id="billing", name="Billing", required_skills={"billing": 2}, service_level_target_s=20
)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def stay(
    cid: str,
    state: str,
    *,
    queued: float,
    answered: float | None = None,
    ended: float | None = None,
    wrapped_up: float | None = None,
    priority: int = 0,
) -> Stay:
    waiting = state in {"waiting", "offered"}
    return Stay(
        conversation_id=cid,
        channel=Channel.CHAT,
        state=state,
        priority=priority,
        waiting_since=ago(queued) if waiting else None,
        queued_at=ago(queued),
        answered_at=None if answered is None else ago(answered),
        ended_at=None if ended is None else ago(ended),
        freed_at=ago(wrapped_up) if wrapped_up is not None else ago(ended) if ended else None,
    )


def agent(agent_id: str, status: AgentStatus, load: int = 0, billing: int = 3) -> LiveAgent:
    config = AgentUpserted(
        agent_id=agent_id, name=agent_id, skills={"billing": billing}, capacity={Channel.CHAT: 2}
    )
    return LiveAgent(config, status, {Channel.CHAT: load} if load else {})


def test_the_figures_a_supervisor_reads_off_a_queue() -> None:
    stays = [
        stay("w1", "waiting", queued=90),
        stay("w2", "offered", queued=30, priority=1),
        # answered after 10 s and 50 s, handled 200 s and 400 s
        stay("a1", "closed", queued=1000, answered=990, ended=790),
        stay("a2", "closed", queued=800, answered=750, ended=350),
        # gave up after 5 s (inside the target) and after 60 s (outside it)
        stay("g1", "abandoned", queued=500, ended=495),
        stay("g2", "abandoned", queued=400, ended=340),
    ]
    agents = [
        agent("ana", AgentStatus.AVAILABLE),
        agent("ben", AgentStatus.AVAILABLE, load=2),
        agent("cy", AgentStatus.AWAY),
        agent("dee", AgentStatus.AVAILABLE, billing=1),  # lacks the skill: not counted
        agent("eve", AgentStatus.OFFLINE),
    ]

    figures = queue_statistics(BILLING, stays, agents, NOW)

    assert figures.waiting == 2
    assert figures.longest_wait_s == 90
    assert figures.asa_s == pytest.approx(30)
    assert figures.aht_s == pytest.approx(300)
    # within target: a1; late: a2 and g2; g1 left before the target and is left out
    assert figures.service_level.today == pytest.approx(1 / 3)
    assert figures.service_level.last_15_min == 0  # a1 was answered 16.5 minutes ago
    assert figures.abandonment_rate == pytest.approx(2 / 4)
    assert (figures.agents.available, figures.agents.busy, figures.agents.away) == (1, 1, 1)
    assert figures.agents.slots == 4


def test_the_handle_time_counts_the_wrap_up_until_the_slot_is_free() -> None:
    stays = [
        # talked 200 s, then 60 s of after-contact work: 260 s of an agent's slot
        stay("a1", "closed", queued=1000, answered=990, ended=790, wrapped_up=730),
        stay("a2", "closed", queued=800, answered=750, ended=490),  # 260 s, no wrap-up
    ]
    assert queue_statistics(BILLING, stays, [], NOW).aht_s == pytest.approx(260)


def test_a_quiet_queue_has_null_figures_not_zeros() -> None:
    figures = queue_statistics(BILLING, [], [agent("ana", AgentStatus.AVAILABLE)], NOW)
    assert figures.waiting == 0
    assert figures.longest_wait_s is None
    assert figures.asa_s is None and figures.aht_s is None and figures.abandonment_rate is None
    assert figures.service_level.today is None
    assert figures.ewt_s == 0 and figures.ewt_status is EwtStatus.ESTIMATED


@pytest.mark.parametrize(("load", "slots"), [(2.0, 3), (8.5, 10), (9.5, 10), (40.0, 45)])
def test_with_nobody_waiting_the_estimate_is_erlang_c(load: float, slots: int) -> None:
    handle_s = 240.0
    found = estimate(
        arrivals_per_s=load / handle_s, handle_s=handle_s, slots=slots, waiting=0, recent_waits_s=()
    )
    expected = closed_form(load, slots) * handle_s / (slots - load)
    assert found.status is EwtStatus.ESTIMATED
    assert found.ewt_s == pytest.approx(expected, rel=1e-9)


def test_behind_people_waiting_the_estimate_counts_departures() -> None:
    found = estimate(arrivals_per_s=1 / 120, handle_s=300, slots=5, waiting=4, recent_waits_s=())
    assert found.ewt_s == pytest.approx(5 * 300 / 5)


def test_observed_waits_weigh_more_the_more_there_are() -> None:
    model = estimate(arrivals_per_s=0.01, handle_s=200, slots=3, waiting=0, recent_waits_s=())
    assert model.ewt_s is not None
    few = estimate(arrivals_per_s=0.01, handle_s=200, slots=3, waiting=0, recent_waits_s=[600.0])
    many = estimate(
        arrivals_per_s=0.01, handle_s=200, slots=3, waiting=0, recent_waits_s=[600.0] * 90
    )
    weight = 1 / (1 + TRUST)
    assert few.ewt_s == pytest.approx((1 - weight) * model.ewt_s + weight * 600)
    assert many.ewt_s == pytest.approx(0.1 * model.ewt_s + 0.9 * 600)


def test_an_unstable_or_unstaffed_queue_says_so_instead_of_a_number() -> None:
    unstable = estimate(arrivals_per_s=0.05, handle_s=120, slots=6, waiting=3, recent_waits_s=())
    unstaffed = estimate(arrivals_per_s=0.01, handle_s=120, slots=0, waiting=0, recent_waits_s=())
    assert (unstable.ewt_s, unstable.status) == (None, EwtStatus.UNSTABLE)
    assert unstable.load_erlangs == pytest.approx(6)
    assert (unstaffed.ewt_s, unstaffed.status) == (None, EwtStatus.UNSTAFFED)


def test_positions_follow_priority_then_time_waited() -> None:
    stays = [
        stay("old", "waiting", queued=300),
        stay("new", "waiting", queued=10),
        stay("vip", "waiting", queued=5, priority=2),
        stay("done", "closed", queued=900, answered=800, ended=100),
    ]
    found = positions(stays, slots=2, handle_s=240)
    assert {cid: p.position for cid, p in found.items()} == {"vip": 1, "old": 2, "new": 3}
    assert found["new"].estimated_wait_s == pytest.approx(3 * 240 / 2)
    assert positions(stays, slots=0, handle_s=240)["vip"].estimated_wait_s is None


def test_history_replays_waiting_and_service_level_minute_by_minute() -> None:
    stays = [
        stay("early", "closed", queued=50 * 60, answered=50 * 60 - 10, ended=40 * 60),
        stay("slow", "assigned", queued=30 * 60, answered=20 * 60),
        stay("now", "waiting", queued=5 * 60),
    ]
    points = history(BILLING, stays, NOW, minutes=60)
    at = {round((NOW - p.at).total_seconds() / 60): p for p in points}

    assert len(points) == 61 and points[-1].at == NOW
    assert (at[55].waiting, at[45].waiting, at[25].waiting, at[10].waiting, at[0].waiting) == (
        0,
        0,
        1,
        0,
        1,
    )
    assert at[45].service_level == 1.0  # "early" answered in 10 s, 5 minutes before
    assert at[15].service_level == 0.0  # "slow" waited 10 minutes
    assert at[0].service_level is None  # nothing answered in the last 15 minutes
