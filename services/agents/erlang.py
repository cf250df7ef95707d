"""Erlang C (M/M/c): the queueing model behind estimated waits and staffing.

Inputs are the offered load A = arrival rate x average handle time (in Erlangs)
and c staffed agents. When A >= c the queue grows without bound: there is no
finite wait to quote, and the functions say so with None.
"""

from __future__ import annotations

import math


def probability_of_waiting(load: float, agents: int) -> float | None:
    """Erlang C: the share of arrivals that wait at all.

    Through the Erlang B recursion, which stays stable for thousands of agents where
    the factorial form overflows.
    """
    if agents <= 0 or load >= agents:
        return None
    if load <= 0:
        return 0.0
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return agents * blocking / (agents - load * (1 - blocking))


def average_speed_of_answer(load: float, agents: int, handle_s: float) -> float | None:
    """Mean wait of all arrivals (ASA), in seconds."""
    waiting = probability_of_waiting(load, agents)
    if waiting is None:
        return None
    return waiting * handle_s / (agents - load)


def service_level(load: float, agents: int, handle_s: float, target_s: float) -> float | None:
    """Share of arrivals answered within `target_s`."""
    waiting = probability_of_waiting(load, agents)
    if waiting is None:
        return None
    return 1 - waiting * math.exp(-(agents - load) * target_s / handle_s)


def wait_behind(ahead: int, agents: int, handle_s: float) -> float:
    """Expected wait of an arrival that finds every agent busy and `ahead` waiting:
    it is answered after ahead + 1 departures, which come at rate agents / handle_s."""
    return (ahead + 1) * handle_s / agents


def erlang_a(
    arrivals_per_s: float, handle_s: float, patience_s: float, agents: int
) -> tuple[float, float, float]:
    """Erlang A (M/M/c+M, Palm's model with impatient customers): the share that waits,
    the mean wait of all arrivals, and the share that abandons.

    From the birth-death chain itself (arrivals at rate λ; n customers leave at rate
    μ·min(n, c) + θ·max(n - c, 0)), truncated where the tail no longer counts."""
    mu, theta = 1 / handle_s, 1 / patience_s
    weights, weight, n = [1.0], 1.0, 0
    while weight > 1e-16 * sum(weights) or n < agents:
        n += 1
        weight *= arrivals_per_s / (mu * min(n, agents) + theta * max(n - agents, 0))
        weights.append(weight)
    total = sum(weights)
    waiting = sum(weights[agents:]) / total
    queued = sum((k - agents) * w for k, w in enumerate(weights) if k > agents) / total
    return waiting, queued / arrivals_per_s, theta * queued / arrivals_per_s
