"""`omniroute simulate`: a discrete-event simulation of a desk that drives the real
routing core (services/router/core), not a copy of it.

Poisson arrivals, exponential or lognormal handle times, customers who give up after
an exponential patience (or never), agents who auto-accept. One queue by default; with
`demands` and `teams`, several kinds of conversation each needing a skill, and teams of
agents holding some skills, routed by a selection policy of the core. Time is simulated;
the core decides at each event's moment. The figures come out as the queue statistics
do: share that waited, average speed of answer, service level, abandonment.
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
from services.router.core.policies import policy
from services.router.core.state import Stage, TenantState
from shared import events as ev

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday; the clock is simulated
QUEUE = "q"


@dataclass(frozen=True)
class Demand:
    """A kind of conversation: its share of the arrivals and the skill it needs (None:
    anyone may answer it). `complex` ones count in the right-skill share."""

    name: str
    share: float
    skill: str | None = None
    complex: bool = False


@dataclass(frozen=True)
class Team:
    agents: int
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    agents: int  # without teams: this many agents, no skills
    arrival_rate_per_hour: float
    aht_s: float
    sl_target_s: float = 20
    hours: float = 100
    patience_s: float | None = None  # None: customers never give up
    handle: Literal["exponential", "lognormal"] = "exponential"
    seed: int = 1
    warmup_share: float = 0.02  # the first part of the run, left out of the figures
    demands: tuple[Demand, ...] = ()  # empty: one queue anyone may answer
    teams: tuple[Team, ...] = ()
    policy: str = "omniroute"
    # False models tools that do not route by skill: queues require none.
    skill_routing: bool = True
    # An agent without the skill a conversation needs takes this much longer with it.
    unskilled_factor: float = 1.5


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
    """Every conversation goes to a person, its kind (the message's text) as its intent:
    the simulation is about queueing, so the classifier's time is not spent (a trained
    model or the rules plug in the same way)."""

    def assess(self, message: Message) -> Assessment:
        return Assessment(1.0, "high", (message.text,), "en", ())


class Customers:
    """Who comes, what they need and how long they stay: one random stream each for
    arrivals, handle times and patience, so that policies compared on a seed, and a
    textbook queue fed the same seed, see the same customers whatever order they are
    served in."""

    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.rate_per_s = scenario.arrival_rate_per_hour / 3600
        self.arrivals = random.Random(f"{scenario.seed}:arrivals")  # noqa: S311 (repeatable)
        self.handle = random.Random(f"{scenario.seed}:handle")  # noqa: S311
        self.patience = random.Random(f"{scenario.seed}:patience")  # noqa: S311

    def gap_s(self) -> float:
        """Time to the next arrival."""
        return self.arrivals.expovariate(self.rate_per_s)

    def demand(self) -> Demand:
        if not self.s.demands:
            return Demand(QUEUE, 1.0)
        draw = self.arrivals.random() * sum(d.share for d in self.s.demands)
        for demand in self.s.demands:
            draw -= demand.share
            if draw < 0:
                return demand
        return self.s.demands[-1]

    def handle_s(self, factor: float = 1.0) -> float:
        """A handle time, drawn when the conversation is answered."""
        mean = self.s.aht_s * factor
        if self.s.handle == "exponential":
            return self.handle.expovariate(1 / mean)
        sigma = 0.8  # lognormal with the given mean
        return self.handle.lognormvariate(math.log(mean) - sigma**2 / 2, sigma)

    def patience_s(self) -> float | None:
        """How long this customer waits before giving up; None: for ever."""
        if self.s.patience_s is None:
            return None
        return self.patience.expovariate(1 / self.s.patience_s)


class Simulation:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.customers = Customers(scenario)
        self.router = Router(classifier=_Anyone(), selection=policy(scenario.policy))
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
        self.skills: dict[str, tuple[str, ...]] = {}  # agent id -> skills
        self.demand_of: dict[str, Demand] = {}  # conversation id -> its kind
        self.busy_by_agent: dict[str, float] = {}
        self.complex_answered = 0
        self.complex_right_skill = 0
        self.warmup_s = scenario.hours * 3600 * scenario.warmup_share
        self._setup()

    def _decide(self, data: ev.Payload) -> list[Out]:
        moment = START + timedelta(seconds=self.now)
        envelope = ev.Envelope.wrap(data, tenant="sim", key="k", at=moment)
        return self.router.decide(self.state, envelope, moment)

    def _setup(self) -> None:
        demands = self.s.demands or (Demand(QUEUE, 1.0),)
        for demand in demands:
            needs = {demand.skill: 1} if demand.skill and self.s.skill_routing else {}
            self._decide(
                ev.QueueUpserted(
                    queue_id=demand.name, name=demand.name, required_skills=needs, auto_accept=True
                )
            )
        rules = tuple(ev.RoutingRule(intent=d.name, queue_id=d.name) for d in demands)
        self._decide(
            ev.RoutingRulesChanged(default_queue_id=QUEUE, complexity_threshold=0, rules=rules)
        )
        teams = self.s.teams or (Team(self.s.agents),)
        for team_number, team in enumerate(teams):
            for n in range(team.agents):
                agent_id = f"a{team_number}-{n}" if self.s.teams else f"a{n}"
                self.skills[agent_id] = team.skills
                self.busy_by_agent[agent_id] = 0.0
                self._decide(
                    ev.AgentUpserted(
                        agent_id=agent_id,
                        name=agent_id,
                        skills=dict.fromkeys(team.skills, 3),
                        capacity={ev.Channel.CHAT: 1},
                    )
                )
                status = ev.AgentStatusChanged(agent_id=agent_id, status=ev.AgentStatus.AVAILABLE)
                self._decide(status)

    def _at(self, delay_s: float, kind: str, subject: str) -> None:
        heapq.heappush(self.events, (self.now + delay_s, next(self.seq), kind, subject))

    def _follow(self, out: list[Out]) -> None:
        """Start the service of whatever the core just assigned."""
        for item in out:
            data = item.data
            if isinstance(data, ev.ConversationOpened):
                self.arrived[data.conversation_id] = self.now
                self.thread_of[data.conversation_id] = data.thread_key
                if not self.s.demands:  # the EWT is quoted for the one queue
                    self._quote(data.conversation_id)
            elif isinstance(data, ev.ConversationAssigned):
                arrived = self.arrived[data.conversation_id]
                waited = self.now - arrived
                self.recent_waits.append((self.now, waited))
                quoted = self.quoted.pop(data.conversation_id, None)
                self.answers.append(Answer(arrived, waited, quoted))
                demand = self.demand_of.pop(data.conversation_id)
                right_skill = demand.skill in (None, *self.skills[data.agent_id])
                if arrived >= self.warmup_s:
                    self.waits.append(waited)
                    if quoted is not None:
                        self.ewt_errors.append(abs(quoted - waited))
                    if demand.complex:
                        self.complex_answered += 1
                        self.complex_right_skill += right_skill
                handle = self.customers.handle_s(1.0 if right_skill else self.s.unskilled_factor)
                self.busy_s += handle
                self.busy_by_agent[data.agent_id] += handle
                self.handled_s, self.handled = self.handled_s + handle, self.handled + 1
                self._at(handle, "done", data.conversation_id)
            elif isinstance(data, ev.ConversationAbandoned):
                del self.demand_of[data.conversation_id]
                self.abandoned += self.arrived[data.conversation_id] >= self.warmup_s

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
        self._at(self.customers.gap_s(), "arrival", "")
        customers = itertools.count()
        next_report = 0.0
        while self.events:
            self.now, _, kind, subject = heapq.heappop(self.events)
            if kind == "arrival":
                if self.now > end_s:
                    continue  # no more arrivals; those in the desk finish
                n = next(customers)
                demand = self.customers.demand()
                out = self._decide(
                    ev.MessageReceived(
                        channel=ev.Channel.CHAT,
                        provider="sim",
                        provider_message_id=f"m{n}",
                        thread_key=f"t{n}",
                        customer=ev.Customer(id=f"c{n}"),
                        text=demand.name,
                    )
                )
                opened = next(o.data for o in out if isinstance(o.data, ev.ConversationOpened))
                self.demand_of[opened.conversation_id] = demand
                self._follow(out)
                patience = self.customers.patience_s()
                if patience is not None:
                    self._at(patience, "patience", opened.conversation_id)
                self._at(self.customers.gap_s(), "arrival", "")
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

    def right_skill_share(self) -> float | None:
        """Of the complex conversations answered, the share an agent with the skill took."""
        if not self.complex_answered:
            return None
        return self.complex_right_skill / self.complex_answered

    def load_spread(self) -> float:
        """How unevenly the work fell: the busiest agent's busy time over the mean's."""
        busy = list(self.busy_by_agent.values())
        return max(busy) / fmean(busy) if busy and fmean(busy) else 1.0


def simulate(scenario: Scenario, progress: Callable[[float], None] | None = None) -> Result:
    return Simulation(scenario).run(progress)
