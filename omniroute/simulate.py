"""`omniroute simulate`: a discrete-event simulation of a desk that drives the real
routing core (services/router/core), not a copy of it.

One queue for now: Poisson arrivals, exponential or lognormal handle times, customers
who give up after an exponential patience (or never), agents who auto-accept. Time is
simulated; the core decides at each event's moment. The figures come out as the queue
statistics do: share that waited, average speed of answer, service level, abandonment.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import Literal

from services.agents.statistics import ARRIVALS_WINDOW, DEFAULT_HANDLE_S, RECENT, estimate
from services.router.core.complexity import Assessment, Message
from services.router.core.decide import Out, Router
from services.router.core.state import Stage, TenantState
from shared import events as ev

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday; the clock is simulated
QUEUE = "q"


@dataclass(frozen=True)
class Scenario:
    agents: int
    arrival_rate_per_hour: float
    aht_s: float
    sl_target_s: float = 20
    hours: float = 100
    patience_s: float | None = None  # None: customers never give up
    handle: Literal["exponential", "lognormal"] = "exponential"
    seed: int = 1
    warmup_share: float = 0.02  # the first part of the run, left out of the figures


@dataclass(frozen=True)
class Result:
    """Arrivals after the warm-up: `asa_s` and `service_level` are of the answered ones."""

    offered: int
    handled: int
    abandoned: int
    p_wait: float
    asa_s: float
    service_level: float
    abandon_rate: float
    occupancy: float
    ewt_mae_s: float | None  # mean |EWT quoted at arrival - wait| of the answered


@dataclass(frozen=True)
class Answer:
    arrived_s: float
    waited_s: float
    quoted_s: float | None  # the EWT the agents service would have quoted on arrival


class _Anyone:
    """Every conversation goes to a person: the simulation is about queueing, so the
    classifier's time is not spent (a trained model or the rules plug in the same way)."""

    def assess(self, message: Message) -> Assessment:
        return Assessment(1.0, "high", (), "en", ())


class Simulation:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.rng = random.Random(scenario.seed)  # noqa: S311 (a repeatable simulation)
        self.router = Router(classifier=_Anyone())
        self.state = TenantState("sim")
        self.events: list[tuple[float, int, str, str]] = []
        self.seq = itertools.count()
        self.arrived: dict[str, float] = {}  # conversation id -> arrival time (s)
        self.thread_of: dict[str, str] = {}
        self.waits: list[float] = []  # of answered conversations, after the warm-up
        self.abandoned = 0
        self.busy_s = 0.0
        self.now = 0.0
        # What the agents service's EWT method sees: the last hour's arrivals, handle
        # times so far, the last 15 minutes' waits; and what it quoted each arrival.
        self.recent_arrivals: deque[float] = deque()
        self.handled_s = 0.0
        self.handled = 0
        self.recent_waits: deque[tuple[float, float]] = deque()
        self.quoted: dict[str, float] = {}
        self.ewt_errors: list[float] = []
        self.answers: list[Answer] = []  # every answered conversation, for the report
        self.warmup_s = scenario.hours * 3600 * scenario.warmup_share
        self._setup()

    def _decide(self, data: ev.Payload) -> list[Out]:
        moment = START + timedelta(seconds=self.now)
        envelope = ev.Envelope.wrap(data, tenant="sim", key="k", at=moment)
        return self.router.decide(self.state, envelope, moment)

    def _setup(self) -> None:
        self._decide(ev.QueueUpserted(queue_id=QUEUE, name="Queue", auto_accept=True))
        self._decide(ev.RoutingRulesChanged(default_queue_id=QUEUE, complexity_threshold=0))
        for n in range(self.s.agents):
            self._decide(
                ev.AgentUpserted(agent_id=f"a{n}", name=f"a{n}", capacity={ev.Channel.CHAT: 1})
            )
            self._decide(ev.AgentStatusChanged(agent_id=f"a{n}", status=ev.AgentStatus.AVAILABLE))

    def _at(self, delay_s: float, kind: str, subject: str) -> None:
        heapq.heappush(self.events, (self.now + delay_s, next(self.seq), kind, subject))

    def _handle_time(self) -> float:
        if self.s.handle == "exponential":
            return self.rng.expovariate(1 / self.s.aht_s)
        sigma = 0.8  # lognormal with the given mean
        return self.rng.lognormvariate(math.log(self.s.aht_s) - sigma**2 / 2, sigma)

    def _follow(self, out: list[Out]) -> None:
        """Start the service of whatever the core just assigned."""
        for item in out:
            data = item.data
            if isinstance(data, ev.ConversationOpened):
                self.arrived[data.conversation_id] = self.now
                self.thread_of[data.conversation_id] = data.thread_key
                self._quote(data.conversation_id)
            elif isinstance(data, ev.ConversationAssigned):
                arrived = self.arrived[data.conversation_id]
                waited = self.now - arrived
                self.recent_waits.append((self.now, waited))
                quoted = self.quoted.pop(data.conversation_id, None)
                self.answers.append(Answer(arrived, waited, quoted))
                if arrived >= self.warmup_s:
                    self.waits.append(waited)
                    if quoted is not None:
                        self.ewt_errors.append(abs(quoted - waited))
                handle = self._handle_time()
                self.busy_s += handle
                self.handled_s, self.handled = self.handled_s + handle, self.handled + 1
                self._at(handle, "done", data.conversation_id)
            elif (
                isinstance(data, ev.ConversationAbandoned)
                and self.arrived[data.conversation_id] >= self.warmup_s
            ):
                self.abandoned += 1

    def _quote(self, conversation_id: str) -> None:
        """The wait the agents service would quote this arrival (its queue statistics'
        method, services/agents/statistics.py), kept to compare with the wait it gets."""
        self.recent_arrivals.append(self.now)
        while self.recent_arrivals[0] < self.now - ARRIVALS_WINDOW.total_seconds():
            self.recent_arrivals.popleft()
        while self.recent_waits and self.recent_waits[0][0] < self.now - RECENT.total_seconds():
            self.recent_waits.popleft()
        quote = estimate(
            arrivals_per_s=len(self.recent_arrivals) / ARRIVALS_WINDOW.total_seconds(),
            handle_s=self.handled_s / self.handled if self.handled else DEFAULT_HANDLE_S,
            slots=self.s.agents,
            # Those ahead: the core has already queued this arrival if no agent was free.
            waiting=len(self.state.queues[QUEUE])
            - (self.state.conversations[conversation_id].stage is Stage.QUEUED),
            recent_waits_s=[wait for _, wait in self.recent_waits],
        )
        if quote.ewt_s is not None:
            self.quoted[conversation_id] = quote.ewt_s

    def run(self, progress: Callable[[float], None] | None = None) -> Result:
        end_s = self.s.hours * 3600
        rate_per_s = self.s.arrival_rate_per_hour / 3600
        self._at(self.rng.expovariate(rate_per_s), "arrival", "")
        customers = itertools.count()
        next_report = 0.0
        while self.events:
            self.now, _, kind, subject = heapq.heappop(self.events)
            if kind == "arrival":
                if self.now > end_s:
                    continue  # no more arrivals; those in the desk finish
                n = next(customers)
                out = self._decide(
                    ev.MessageReceived(
                        channel=ev.Channel.CHAT,
                        provider="sim",
                        provider_message_id=f"m{n}",
                        thread_key=f"t{n}",
                        customer=ev.Customer(id=f"c{n}"),
                        text="help",
                    )
                )
                self._follow(out)
                if self.s.patience_s is not None:
                    opened = next(o.data for o in out if isinstance(o.data, ev.ConversationOpened))
                    patience = self.rng.expovariate(1 / self.s.patience_s)
                    self._at(patience, "patience", opened.conversation_id)
                self._at(self.rng.expovariate(rate_per_s), "arrival", "")
            elif kind == "done":
                closing = ev.ConversationCloseRequested(conversation_id=subject, disposition="done")
                self._follow(self._decide(closing))
            elif kind == "patience" and subject in self.state.conversations:
                left = ev.CustomerLeft(
                    channel=ev.Channel.CHAT, provider="sim", thread_key=self.thread_of[subject]
                )
                self._follow(self._decide(left))  # abandons only while still waiting
            if progress is not None and self.now >= next_report:
                progress(min(1.0, self.now / end_s))
                next_report += end_s / 20
        return self._result(end_s)

    def _result(self, end_s: float) -> Result:
        target = self.s.sl_target_s
        answered = len(self.waits)
        offered = answered + self.abandoned
        waited = sum(1 for w in self.waits if w > 1e-9)
        return Result(
            offered=offered,
            handled=answered,
            abandoned=self.abandoned,
            # Everyone who found every agent busy: the answered who waited and all who left.
            p_wait=(waited + self.abandoned) / offered if offered else 0.0,
            asa_s=sum(self.waits) / answered if answered else 0.0,
            service_level=sum(1 for w in self.waits if w <= target) / answered if answered else 0.0,
            abandon_rate=self.abandoned / offered if offered else 0.0,
            occupancy=self.busy_s / (self.s.agents * max(self.now, end_s)),
            ewt_mae_s=fmean(self.ewt_errors) if self.ewt_errors else None,
        )


def simulate(scenario: Scenario, progress: Callable[[float], None] | None = None) -> Result:
    return Simulation(scenario).run(progress)
