"""`omniroute simulate`: a discrete-event simulation of a desk that drives the real
routing core (services/router/core), not a copy of it.

Poisson arrivals (optionally shaped by a time-of-day profile), exponential or lognormal
handle times, customers who give up after an exponential patience (or never), agents
who auto-accept. One queue by default; with `demands` and `teams`, several kinds of
conversation on their channels, each needing a skill, teams of agents holding some
skills and working shifts, routed by a selection policy of the core, and a bot that
takes the simple conversations (below the complexity threshold) and solves a share of
them. Time is simulated; the core decides at each event's moment. The figures come out
as the queue statistics do: share that waited, average speed of answer, service level,
abandonment.
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
from services.router.core.complexity import Assessment, Message, Tier
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
    channel: ev.Channel = ev.Channel.CHAT
    aht_s: float | None = None  # None: the scenario's
    wrap_up_s: int | None = None  # after-contact work after each close; None: the scenario's
    complexity: float = 1.0  # the score the classifier gives it: below the threshold, the bot
    bot_resolves: float = 0.0  # share of what the bot takes that it solves


@dataclass(frozen=True)
class Team:
    agents: int
    skills: tuple[str, ...] = ()
    capacity: tuple[tuple[ev.Channel, int], ...] = ((ev.Channel.CHAT, 1),)
    shift: tuple[float, float] | None = None  # hours of the day on duty; (22, 6) spans midnight

    def on_duty(self, at_s: float) -> bool:
        if self.shift is None:
            return True
        hour = at_s / 3600 % 24
        start, end = self.shift
        return start <= hour < end if start <= end else hour >= start or hour < end

    def next_change_s(self, now_s: float) -> float:
        """The next moment after `now_s` the team's shift starts or ends."""
        assert self.shift is not None
        day_s = now_s - now_s % 86_400
        changes = sorted(hour * 3600 for hour in self.shift)
        candidates = [day_s + day * 86_400 + change for day in (0, 1) for change in changes]
        return min(moment for moment in candidates if moment > now_s)

    def slots(self) -> int:
        return self.agents * sum(n for _, n in self.capacity)

    def takes(self, channel: ev.Channel) -> bool:
        return any(ch is channel and n > 0 for ch, n in self.capacity)


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
    # Relative arrival rate in each hour of the day (24 values); the mean is taken as 1,
    # so `arrival_rate_per_hour` stays the day's average. Empty: the same all day.
    profile: tuple[float, ...] = ()
    complexity_threshold: float = 0.0  # below it the bot takes the conversation first
    bot_s: float = 60.0  # how long the bot works on one before it solves or escalates it
    # After-contact work: an agent's slot stays taken this long after each close (the
    # queues' wrap_up_s); agents use all of it.
    wrap_up_s: int = 0

    def kinds(self) -> tuple[Demand, ...]:
        """The kinds of conversation: without `demands`, one that anyone may answer."""
        return self.demands or (Demand(QUEUE, 1.0),)


@dataclass(frozen=True)
class Result:
    """Arrivals after the warm-up. The queue's figures (p_wait, abandon_rate) are of
    those who reached a queue, `asa_s` and `service_level` of the answered ones."""

    offered: int
    handled: int
    abandoned: int
    bot_resolved: int  # never reached a person
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


class _ByKind:
    """Scores a conversation by its kind (the message's text, also its intent) as the
    scenario says: the simulation is about queueing, so the classifier's time is not
    spent (a trained model or the rules plug in the same way)."""

    def __init__(self, demands: tuple[Demand, ...]) -> None:
        self.complexity = {demand.name: demand.complexity for demand in demands}

    def assess(self, message: Message) -> Assessment:
        score = self.complexity.get(message.text, 1.0)
        tier: Tier = "high" if score >= 0.65 else "medium" if score >= 0.35 else "low"
        return Assessment(score, tier, (message.text,), "en", ())


class Customers:
    """Who comes, what they need and how long they stay: one random stream each for
    arrivals, handle times, patience and the bot's luck, so that policies compared on a
    seed, and a textbook queue fed the same seed, see the same customers whatever order
    they are served in."""

    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.rate_per_s = scenario.arrival_rate_per_hour / 3600
        mean = fmean(scenario.profile) if scenario.profile else 1.0
        self.shape = [factor / mean for factor in scenario.profile]
        self.arrivals = random.Random(f"{scenario.seed}:arrivals")  # noqa: S311 (repeatable)
        self.handle = random.Random(f"{scenario.seed}:handle")  # noqa: S311
        self.patience = random.Random(f"{scenario.seed}:patience")  # noqa: S311
        self.bot = random.Random(f"{scenario.seed}:bot")  # noqa: S311

    def next_arrival_s(self, now_s: float) -> float:
        """When the next customer comes. With a profile, by thinning: candidates at the
        busiest hour's rate, each kept with the share its hour has of that rate."""
        if not self.shape:
            return now_s + self.arrivals.expovariate(self.rate_per_s)
        peak = max(self.shape)
        while True:
            now_s += self.arrivals.expovariate(self.rate_per_s * peak)
            if self.arrivals.random() * peak < self.shape[int(now_s / 3600 % 24)]:
                return now_s

    def demand(self) -> Demand:
        kinds = self.s.kinds()
        if len(kinds) == 1:
            return kinds[0]
        draw = self.arrivals.random() * sum(d.share for d in kinds)
        for demand in kinds:
            draw -= demand.share
            if draw < 0:
                return demand
        return kinds[-1]

    def wrap_up_s(self, demand: Demand) -> int:
        return self.s.wrap_up_s if demand.wrap_up_s is None else demand.wrap_up_s

    def handle_s(self, demand: Demand | None = None, factor: float = 1.0) -> float:
        """A handle time, drawn when the conversation is answered."""
        mean = (demand.aht_s if demand and demand.aht_s else self.s.aht_s) * factor
        if self.s.handle == "exponential":
            return self.handle.expovariate(1 / mean)
        sigma = 0.8  # lognormal with the given mean
        return self.handle.lognormvariate(math.log(mean) - sigma**2 / 2, sigma)

    def patience_s(self) -> float | None:
        """How long this customer waits before giving up; None: for ever."""
        if self.s.patience_s is None:
            return None
        return self.patience.expovariate(1 / self.s.patience_s)

    def bot_solves(self, demand: Demand) -> bool:
        return self.bot.random() < demand.bot_resolves


class Simulation:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.demands = scenario.kinds()
        self.teams = scenario.teams or (Team(scenario.agents),)
        _check(scenario, self.demands, self.teams)
        self.customers = Customers(scenario)
        self.router = Router(classifier=_ByKind(self.demands), selection=policy(scenario.policy))
        self.state = TenantState("sim")
        self.events: list[tuple[float, int, str, str]] = []
        self.seq = itertools.count()
        self.now = 0.0
        self.end_s = scenario.hours * 3600
        self.warmup_s = self.end_s * scenario.warmup_share
        self.opened_at: dict[str, float] = {}  # conversation id -> when the customer wrote
        self.queued_at: dict[str, float] = {}  # -> when it reached a queue
        self.thread_of: dict[str, tuple[ev.Channel, str]] = {}
        self.demand_of: dict[str, Demand] = {}  # conversation id -> its kind
        self.waits: list[float] = []  # of answered conversations, after the warm-up
        self.abandoned = 0
        self.bot_resolved = 0
        self.busy_s = 0.0
        self.busy_by_agent: dict[str, float] = {}
        self.skills: dict[str, tuple[str, ...]] = {}  # agent id -> skills
        self.roster: list[list[str]] = []  # agent ids by team
        self.on_duty_since: dict[int, float] = {}  # team -> since when
        self.staffed_s = 0.0  # slot-seconds on duty, ended shifts
        self.on_duty_log: list[tuple[float, int]] = [(0.0, 0)]  # (from when, agents on duty)
        self.complex_answered = 0
        self.complex_right_skill = 0
        # What the agents service's EWT method sees of the one queue: the last hour's
        # arrivals, handle times so far, the last 15 minutes' waits; what it quoted.
        self.quoted_queue = self.demands[0].name if len(self.demands) == 1 else None
        self.recent_arrivals: deque[float] = deque()
        self.handled_s = 0.0
        self.handled = 0
        self.recent_waits: deque[tuple[float, float]] = deque()
        self.quoted: dict[str, float] = {}
        self.ewt_errors: list[float] = []
        self.answers: list[Answer] = []  # every answered conversation, for the report
        self._setup()

    def _decide(self, data: ev.Payload) -> list[Out]:
        moment = START + timedelta(seconds=self.now)
        envelope = ev.Envelope.wrap(data, tenant="sim", key="k", at=moment)
        return self.router.decide(self.state, envelope, moment)

    def _setup(self) -> None:
        for demand in self.demands:
            needs = {demand.skill: 1} if demand.skill and self.s.skill_routing else {}
            self._decide(
                ev.QueueUpserted(
                    queue_id=demand.name,
                    name=demand.name,
                    required_skills=needs,
                    auto_accept=True,
                    wrap_up_s=self.customers.wrap_up_s(demand),
                )
            )
        bot = self.s.complexity_threshold > 0
        self._decide(
            ev.RoutingRulesChanged(
                default_queue_id=QUEUE,
                complexity_threshold=self.s.complexity_threshold,
                bot_channels=tuple({d.channel for d in self.demands}) if bot else (),
                rules=tuple(ev.RoutingRule(intent=d.name, queue_id=d.name) for d in self.demands),
            )
        )
        for number, team in enumerate(self.teams):
            self.roster.append([])
            for n in range(team.agents):
                agent_id = f"a{number}-{n}" if self.s.teams else f"a{n}"
                self.roster[number].append(agent_id)
                self.skills[agent_id] = team.skills
                self.busy_by_agent[agent_id] = 0.0
                self._decide(
                    ev.AgentUpserted(
                        agent_id=agent_id,
                        name=agent_id,
                        skills=dict.fromkeys(team.skills, 3),
                        capacity=dict(team.capacity),
                    )
                )
            if team.on_duty(0.0):
                self._staff(number, on_duty=True)
            if team.shift is not None:
                self._at(team.next_change_s(0.0), "shift", str(number))

    def _staff(self, number: int, *, on_duty: bool) -> None:
        """A team's shift starts or ends: its agents log in or out (those busy at the end
        finish what they hold; the core offers them nothing new)."""
        if on_duty:
            self.on_duty_since[number] = self.now
        else:
            self.staffed_s += self.teams[number].slots() * (
                self.now - self.on_duty_since.pop(number)
            )
        on_duty_agents = sum(self.teams[n].agents for n in self.on_duty_since)
        if self.on_duty_log[-1][0] == self.now:
            self.on_duty_log.pop()
        self.on_duty_log.append((self.now, on_duty_agents))
        status = ev.AgentStatus.AVAILABLE if on_duty else ev.AgentStatus.OFFLINE
        for agent_id in self.roster[number]:
            self._follow(self._decide(ev.AgentStatusChanged(agent_id=agent_id, status=status)))

    def _at(self, when_s: float, kind: str, subject: str) -> None:
        heapq.heappush(self.events, (when_s, next(self.seq), kind, subject))

    def _follow(self, out: list[Out]) -> None:
        """Keep the books of what the core just did, and start what it set going: a
        service, the bot's work, a customer's patience."""
        for item in out:
            match item.data:
                case ev.ConversationOpened(conversation_id=cid, channel=channel, thread_key=key):
                    self.opened_at[cid] = self.now
                    self.thread_of[cid] = (channel, key)
                case ev.HandedToBot(conversation_id=cid):
                    self._at(self.now + self.s.bot_s, "bot", cid)
                case ev.ConversationQueued(conversation_id=cid):
                    self.queued_at[cid] = self.now
                    if self.quoted_queue is not None:
                        self._quote(cid)
                    patience = self.customers.patience_s()
                    if patience is not None:
                        self._at(self.now + patience, "patience", cid)
                case ev.ConversationAssigned(conversation_id=cid, agent_id=agent_id):
                    self._answered(cid, agent_id)
                case ev.ConversationAbandoned(conversation_id=cid):
                    del self.demand_of[cid]
                    self.abandoned += self.queued_at[cid] >= self.warmup_s
                case ev.WrapUpStarted(agent_id=agent_id, conversation_id=cid, until=until):
                    # The core ends a wrap-up on a tick, which this event-driven run has
                    # none of: the agent says Done at the moment it runs out.
                    self._at((until - START).total_seconds(), "wrapped", f"{agent_id} {cid}")

    def _answered(self, cid: str, agent_id: str) -> None:
        queued = self.queued_at[cid]
        waited = self.now - queued
        self.recent_waits.append((self.now, waited))
        quoted = self.quoted.pop(cid, None)
        self.answers.append(Answer(queued, waited, quoted))
        demand = self.demand_of.pop(cid)
        right_skill = demand.skill in (None, *self.skills[agent_id])
        if queued >= self.warmup_s:
            self.waits.append(waited)
            if quoted is not None:
                self.ewt_errors.append(abs(quoted - waited))
            if demand.complex:
                self.complex_answered += 1
                self.complex_right_skill += right_skill
        handle = self.customers.handle_s(demand, 1.0 if right_skill else self.s.unskilled_factor)
        # The slot is busy through the wrap-up that follows the close, as the agents
        # service counts it in the handle time.
        busy = handle + self.customers.wrap_up_s(demand)
        self.busy_s += busy
        self.busy_by_agent[agent_id] += busy
        self.handled_s, self.handled = self.handled_s + busy, self.handled + 1
        self._at(self.now + handle, "done", cid)

    def _quote(self, conversation_id: str) -> None:
        """The wait the agents service would quote this arrival (its queue statistics'
        method, services/agents/statistics.py), kept to compare with the wait it gets."""
        assert self.quoted_queue is not None
        self.recent_arrivals.append(self.now)
        while self.recent_arrivals[0] < self.now - ARRIVALS_WINDOW.total_seconds():
            self.recent_arrivals.popleft()
        while self.recent_waits and self.recent_waits[0][0] < self.now - RECENT.total_seconds():
            self.recent_waits.popleft()
        quote = estimate(
            arrivals_per_s=len(self.recent_arrivals) / ARRIVALS_WINDOW.total_seconds(),
            handle_s=self.handled_s / self.handled if self.handled else DEFAULT_HANDLE_S,
            slots=sum(self.teams[number].slots() for number in self.on_duty_since),
            # Those ahead: the core has already queued this arrival if no agent was free.
            waiting=len(self.state.queues[self.quoted_queue])
            - (self.state.conversations[conversation_id].stage is Stage.QUEUED),
            recent_waits_s=[wait for _, wait in self.recent_waits],
        )
        if quote.ewt_s is not None:
            self.quoted[conversation_id] = quote.ewt_s

    def _arrive(self, n: int) -> None:
        demand = self.customers.demand()
        out = self._decide(
            ev.MessageReceived(
                channel=demand.channel,
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

    def _bot_done(self, cid: str) -> None:
        """The bot solved it (the customer is done) or hands it to a person."""
        if self.customers.bot_solves(self.demand_of[cid]):
            del self.demand_of[cid]
            self.bot_resolved += self.opened_at[cid] >= self.warmup_s
            self._follow(self._decide(ev.BotResolved(conversation_id=cid)))
        else:
            reason = "the bot could not solve it"
            self._follow(self._decide(ev.BotEscalated(conversation_id=cid, reason=reason)))

    def _shift_change(self, number: int) -> None:
        team = self.teams[number]
        if self.now > self.end_s:
            # After the last arrival the whole roster stays on until the desk is empty.
            if number not in self.on_duty_since:
                self._staff(number, on_duty=True)
            return
        on_duty = team.on_duty(self.now)
        if on_duty != (number in self.on_duty_since):
            self._staff(number, on_duty=on_duty)
        self._at(team.next_change_s(self.now), "shift", str(number))

    def run(self, progress: Callable[[float], None] | None = None) -> Result:
        self._at(self.customers.next_arrival_s(0.0), "arrival", "")
        customers = itertools.count()
        next_report = 0.0
        while self.events:
            self.now, _, kind, subject = heapq.heappop(self.events)
            if kind == "arrival":
                if self.now > self.end_s:
                    continue  # no more arrivals; those in the desk finish
                self._arrive(next(customers))
                self._at(self.customers.next_arrival_s(self.now), "arrival", "")
            elif kind == "done":
                closing = ev.ConversationCloseRequested(conversation_id=subject, disposition="done")
                self._follow(self._decide(closing))
            elif kind == "wrapped":
                agent_id, cid = subject.split(" ")
                done = ev.WrapUpEndRequested(agent_id=agent_id, conversation_id=cid)
                self._follow(self._decide(done))
            elif kind == "bot":
                self._bot_done(subject)
            elif kind == "shift":
                self._shift_change(int(subject))
            elif kind == "patience" and subject in self.state.conversations:
                channel, key = self.thread_of[subject]
                left = ev.CustomerLeft(channel=channel, provider="sim", thread_key=key)
                self._follow(self._decide(left))  # abandons only while still waiting
            if progress is not None and self.now >= next_report:
                progress(min(1.0, self.now / self.end_s))
                next_report += self.end_s / 20
        return self._result()

    def _result(self) -> Result:
        target = self.s.sl_target_s
        answered = len(self.waits)
        queued = answered + self.abandoned
        waited = sum(1 for w in self.waits if w > 1e-9)
        end_s = max(self.now, self.end_s)
        staffed_s = self.staffed_s + sum(
            self.teams[number].slots() * (end_s - since)
            for number, since in self.on_duty_since.items()
        )
        return Result(
            offered=queued + self.bot_resolved,
            handled=answered,
            abandoned=self.abandoned,
            bot_resolved=self.bot_resolved,
            # Everyone who found every agent busy: the answered who waited and all who left.
            p_wait=(waited + self.abandoned) / queued if queued else 0.0,
            asa_s=sum(self.waits) / answered if answered else 0.0,
            service_level=sum(1 for w in self.waits if w <= target) / answered if answered else 0.0,
            abandon_rate=self.abandoned / queued if queued else 0.0,
            occupancy=self.busy_s / staffed_s if staffed_s else 0.0,
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


def _check(scenario: Scenario, demands: tuple[Demand, ...], teams: tuple[Team, ...]) -> None:
    """A scenario the desk cannot serve says so before it runs."""
    if scenario.profile and len(scenario.profile) != 24:
        raise ValueError(f"the profile needs 24 hourly values, not {len(scenario.profile)}")
    if scenario.profile and (min(scenario.profile) < 0 or not any(scenario.profile)):
        raise ValueError("the profile's values must be >= 0 and not all 0")
    names = [demand.name for demand in demands]
    if len(set(names)) != len(names):
        raise ValueError("two queues have the same name")
    for demand in demands:
        if not any(team.takes(demand.channel) for team in teams):
            raise ValueError(f"no team takes {demand.channel} (queue {demand.name!r})")
    policy(scenario.policy)  # an unknown one raises here


def simulate(scenario: Scenario, progress: Callable[[float], None] | None = None) -> Result:
    return Simulation(scenario).run(progress)
