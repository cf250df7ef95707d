"""Erlang C against its closed form and published values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.agents.erlang import (
    average_speed_of_answer,
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
