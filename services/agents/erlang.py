"""Erlang C (M/M/c): the queueing model behind estimated waits and staffing.

Inputs are the offered load A = arrival rate x average handle time (in Erlangs)
and c staffed agents. When A >= c the queue grows without bound: there is no
finite wait to quote, and the functions say so with None.
"""

from __future__ import annotations

import math
from typing import NamedTuple


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


class ErlangA(NamedTuple):
    p_wait: float  # share of arrivals that find every agent busy
    mean_wait_s: float  # of all arrivals, the time until answered or gone
    asa_s: float  # of the answered ones
    abandon_rate: float


def erlang_a(arrivals_per_s: float, handle_s: float, patience_s: float, agents: int) -> ErlangA:
    """Erlang A (M/M/c+M, Palm's model with impatient customers), served first come
    first served.

    From the birth-death chain itself (arrivals at rate λ; n customers leave at rate
    μ·min(n, c) + θ·max(n - c, 0)), truncated where the tail no longer counts. An
    arrival sees the chain's stationary state (Poisson arrivals see time averages); one
    with j waiting ahead moves up at rate cμ + jθ and gives up at rate θ, so it is
    answered with probability Π cμ+iθ / cμ+(i+1)θ and, if so, after Σ 1 / cμ+(i+1)θ."""
    mu, theta = 1 / handle_s, 1 / patience_s
    weights, weight, n = [1.0], 1.0, 0
    while weight > 1e-16 * sum(weights) or n < agents:
        n += 1
        weight *= arrivals_per_s / (mu * min(n, agents) + theta * max(n - agents, 0))
        weights.append(weight)
    total = sum(weights)
    answered = sum(weights[:agents]) / total
    answered_wait = 0.0  # Σ P(sees j ahead, is answered) x its wait
    reach, wait = 1.0, 0.0  # for j ahead: P(answered), its wait if answered
    for ahead, w in enumerate(weights[agents:]):
        rate = agents * mu + (ahead + 1) * theta
        reach, wait = reach * (rate - theta) / rate, wait + 1 / rate
        answered += w / total * reach
        answered_wait += w / total * reach * wait
    queued = sum((k - agents) * w for k, w in enumerate(weights) if k > agents) / total
    return ErlangA(
        p_wait=sum(weights[agents:]) / total,
        mean_wait_s=queued / arrivals_per_s,
        asa_s=answered_wait / answered,
        abandon_rate=1 - answered,
    )
