"""Erlang C against its closed form and published values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.agents.erlang import (
    average_speed_of_answer,
    erlang_a,
    probability_of_waiting,
    service_level,
    wait_behind,
)


def closed_form(load: float, agents: int) -> float:
    """P(wait) = (A^c/c! * c/(c-A)) / (sum_{k<c} A^k/k! + A^c/c! * c/(c-A))."""
    top = load**agents / math.factorial(agents) * agents / (agents - load)
    return top / (sum(load**k / math.factorial(k) for k in range(agents)) + top)


def test_a_textbook_value() -> None:
    # A = 2 Erlangs on 3 agents: (8/6 * 3) / (1 + 2 + 2 + 4) = 4/9.
    assert probability_of_waiting(2, 3) == pytest.approx(4 / 9)


@given(agents=st.integers(1, 60), utilisation=st.floats(0.05, 0.98))
def test_the_recursion_equals_the_closed_form(agents: int, utilisation: float) -> None:
    load = agents * utilisation
    assert probability_of_waiting(load, agents) == pytest.approx(
        closed_form(load, agents), rel=1e-9
    )


def test_asa_and_service_level_of_a_classic_desk() -> None:
    # 10 Erlangs (e.g. 200 chats an hour of 3 minutes) on 12 agents.
    waiting = closed_form(10, 12)
    assert average_speed_of_answer(10, 12, 180) == pytest.approx(waiting * 180 / 2)
    assert service_level(10, 12, 180, 20) == pytest.approx(1 - waiting * math.exp(-2 * 20 / 180))


def test_an_unstable_queue_has_no_finite_wait() -> None:
    assert probability_of_waiting(12, 12) is None
    assert average_speed_of_answer(13, 12, 180) is None
    assert service_level(12.5, 12, 180, 20) is None


def test_thousands_of_agents_do_not_overflow() -> None:
    waiting = probability_of_waiting(4800, 5000)
    assert waiting is not None and 0 < waiting < 1


def test_the_wait_of_an_arrival_behind_others() -> None:
    assert wait_behind(ahead=4, agents=5, handle_s=300) == 300


def erlang_b(load: float, agents: int) -> float:
    """Erlang B, the blocking of M/M/c/c, from its closed form."""
    top = load**agents / math.factorial(agents)
    return top / sum(load**k / math.factorial(k) for k in range(agents + 1))


def test_erlang_a_meets_its_limits() -> None:
    # Customers who never give up: Erlang C. Customers who leave at once: Erlang B.
    patient = erlang_a(8 / 300, 300, 1e12, 10)
    assert patient.p_wait == pytest.approx(closed_form(8, 10), rel=1e-6)
    assert patient.mean_wait_s == pytest.approx(closed_form(8, 10) * 300 / 2, rel=1e-6)
    assert patient.asa_s == pytest.approx(patient.mean_wait_s, rel=1e-6)
    assert patient.abandon_rate == pytest.approx(0, abs=1e-6)
    gone = erlang_a(12 / 300, 300, 1e-6, 10)
    assert gone.abandon_rate == pytest.approx(erlang_b(12, 10), rel=1e-4)
    assert gone.asa_s == pytest.approx(0, abs=1e-4)


def test_erlang_a_stays_finite_when_more_work_arrives_than_agents_can_do() -> None:
    # 15 Erlangs on 10 agents: at most 10 can be served, so at least a third must leave.
    overloaded = erlang_a(15 / 300, 300, 120, 10)
    assert 0 < overloaded.p_wait < 1 and 0 < overloaded.mean_wait_s < 120
    assert overloaded.abandon_rate >= 1 - 10 / 15
    # The answered waited less than an average patience: the patient ones stayed.
    assert 0 < overloaded.asa_s < 120


@given(
    agents=st.integers(1, 40),
    utilisation=st.floats(0.3, 1.5),
    patience_ratio=st.floats(0.1, 10),
)
def test_erlang_a_abandonment_is_patience_rate_times_mean_wait(
    agents: int, utilisation: float, patience_ratio: float
) -> None:
    """P(abandon) = θ·E[wait of all] for exponential patience (Mandelbaum and Zeltyn):
    the left side comes from each arrival's path through the queue, the right side from
    the queue's mean length, two independent ways to the same number."""
    patience_s = 300 * patience_ratio
    model = erlang_a(agents * utilisation / 300, 300, patience_s, agents)
    assert model.abandon_rate == pytest.approx(model.mean_wait_s / patience_s, rel=1e-6)
    assert 0 <= model.abandon_rate < model.p_wait <= 1
