"""`omniroute simulate` against queueing theory: Erlang C (M/M/c) within 3% and
Erlang A (M/M/c+M, customers who give up) within 5%.

Near saturation, waits are so autocorrelated that a few hundred thousand simulated
arrivals still miss Erlang C's average speed of answer by ten percent either way; at
load 0.95 it takes about sixteen million for a standard deviation of 1%. The real core
decides a few thousand arrivals a second, so the check goes in two steps (a control
variate whose coefficient is one):

1. Fed the same customers (the same `Customers` streams), the simulator over the real
   core answers every customer at the very moment the textbook first-come-first-served
   queue does, and loses the same ones: on these inputs the core is that queue.
2. The textbook queue (a heap of the moments the agents are next free) runs about a
   million arrivals a second, enough to meet the closed forms with a fixed seed.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from omniroute.simulate import Customers, Scenario, Simulation
from services.agents.erlang import average_speed_of_answer, erlang_a, probability_of_waiting

AGENTS = 10
AHT_S = 300.0
PATIENCE_S = 150.0


def desk(load: float, arrivals: int, patience_s: float | None = None) -> Scenario:
    """Ten agents at `load` (offered Erlangs per agent) for about `arrivals` customers."""
    rate_per_hour = load * AGENTS * 3600 / AHT_S
    return Scenario(
        agents=AGENTS,
        arrival_rate_per_hour=rate_per_hour,
        aht_s=AHT_S,
        patience_s=patience_s,
        hours=arrivals / rate_per_hour,
        seed=11,
    )


def textbook_queue(scenario: Scenario) -> Iterator[tuple[float, float | None]]:
    """Each customer's arrival and wait (None: gave up), first come first served: the
    next customer takes the agent who is free first, or leaves when that is later than
    their patience lasts."""
    customers = Customers(scenario)
    free = [0.0] * scenario.agents  # a heap of the moments each agent is next free
    end_s = scenario.hours * 3600
    now = customers.next_arrival_s(0.0)
    while now <= end_s:
        patience = customers.patience_s()
        start = max(now, free[0])
        if patience is not None and start - now > patience:
            yield now, None
        else:
            heapq.heapreplace(free, start + customers.handle_s())
            yield now, start - now
        now = customers.next_arrival_s(now)


@dataclass(frozen=True)
class Figures:
    p_wait: float
    asa_s: float
    abandon_rate: float


def figures(scenario: Scenario) -> Figures:
    """The textbook queue's figures, counted as the simulator counts them (arrivals in
    the warm-up left out; ASA of the answered)."""
    warmup_s = scenario.hours * 3600 * scenario.warmup_share
    offered = waited = abandoned = 0
    total_wait = 0.0
    for arrived, wait in textbook_queue(scenario):
        if arrived < warmup_s:
            continue
        offered += 1
        if wait is None:
            abandoned += 1
        else:
            waited += wait > 1e-9
            total_wait += wait
    answered = offered - abandoned
    return Figures((waited + abandoned) / offered, total_wait / answered, abandoned / offered)


@pytest.mark.parametrize("patience_s", [None, PATIENCE_S], ids=["patient", "impatient"])
@pytest.mark.parametrize("load", [0.7, 0.85, 0.95])
def test_the_simulated_core_is_the_textbook_queue(load: float, patience_s: float | None) -> None:
    scenario = desk(load, 8_000, patience_s)
    simulation = Simulation(scenario)
    result = simulation.run()
    textbook = list(textbook_queue(scenario))
    answered = [(arrived, wait) for arrived, wait in textbook if wait is not None]
    assert len(simulation.answers) == len(answered) > 6_000
    for answer, (arrived, wait) in zip(simulation.answers, answered, strict=True):
        assert answer.arrived_s == pytest.approx(arrived, abs=1e-6)
        assert answer.waited_s == pytest.approx(wait, abs=1e-6)
    expected = figures(scenario)
    assert (result.p_wait, result.asa_s, result.abandon_rate) == pytest.approx(
        (expected.p_wait, expected.asa_s, expected.abandon_rate), abs=1e-9
    )
    if patience_s is not None:
        assert result.abandoned > 0


@pytest.mark.parametrize(("load", "arrivals"), [(0.7, 4e6), (0.85, 4e6), (0.95, 16e6)])
def test_erlang_c_within_3_percent(load: float, arrivals: float) -> None:
    scenario = desk(load, int(arrivals))
    simulated = figures(scenario)
    p_wait = probability_of_waiting(load * AGENTS, AGENTS)
    asa_s = average_speed_of_answer(load * AGENTS, AGENTS, AHT_S)
    print(f"\nload {load}: P(wait) {simulated.p_wait:.4f} vs {p_wait:.4f}, "
          f"ASA {simulated.asa_s:.1f} s vs {asa_s:.1f} s")  # fmt: skip
    assert simulated.p_wait == pytest.approx(p_wait, rel=0.03)
    assert simulated.asa_s == pytest.approx(asa_s, rel=0.03)


@pytest.mark.parametrize("load", [0.85, 1.0, 1.2])
def test_erlang_a_within_5_percent(load: float) -> None:
    scenario = desk(load, 2_000_000, PATIENCE_S)
    simulated = figures(scenario)
    model = erlang_a(scenario.arrival_rate_per_hour / 3600, AHT_S, PATIENCE_S, AGENTS)
    print(f"\nload {load}: P(wait) {simulated.p_wait:.4f} vs {model.p_wait:.4f}, "
          f"ASA {simulated.asa_s:.1f} s vs {model.asa_s:.1f} s, "
          f"abandoned {simulated.abandon_rate:.4f} vs {model.abandon_rate:.4f}")  # fmt: skip
    assert simulated.p_wait == pytest.approx(model.p_wait, rel=0.05)
    assert simulated.asa_s == pytest.approx(model.asa_s, rel=0.05)
    assert simulated.abandon_rate == pytest.approx(model.abandon_rate, rel=0.05)
