"""The routing state of one tenant: agents, queues, conversations and offers.

Plain data. `decide` (decide.py) is the only code that changes it, so every
change is paired with the events that report it.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from shared.events import (
    AgentStatus,
    Channel,
    Customer,
    QueueUpserted,
    RoutingRulesChanged,
    TranscriptLine,
)
from shared.surveys import Kind


class Stage(StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    CLOSED = "closed"
    ABANDONED = "abandoned"


# The members the core compares with in every decision, as constants. Compiled
# (shared/compiled.py), `Stage.QUEUED` is an attribute of a class whose metaclass has
# a `__getattr__` (Python 3.11's EnumType): each read costs a call into type's
# __getattribute__, about 100 ns; a Final module constant is read from a C static.
BOT: Final = Stage.BOT
QUEUED: Final = Stage.QUEUED
OFFERED: Final = Stage.OFFERED
ASSIGNED: Final = Stage.ASSIGNED
CLOSED: Final = Stage.CLOSED
ABANDONED: Final = Stage.ABANDONED
AVAILABLE: Final = AgentStatus.AVAILABLE
OFFLINE: Final = AgentStatus.OFFLINE
EMAIL: Final = Channel.EMAIL

OPEN_STAGES = frozenset({BOT, QUEUED, OFFERED, ASSIGNED})


@dataclass(slots=True)
class Offer:
    offer_id: str
    agent_id: str
    expires_at: datetime


@dataclass(slots=True)
class Conversation:
    conversation_id: str
    channel: Channel
    provider: str
    thread_key: str
    customer: Customer
    language: str
    intents: tuple[str, ...]
    opened_at: datetime
    stage: Stage
    queue_id: str | None = None
    priority: int = 0
    queued_at: datetime | None = None
    agent_id: str | None = None
    offer: Offer | None = None
    # Agent -> when they declined, let expire or transferred away this conversation: it is
    # not offered to them again for a while (RoutingRulesChanged.reoffer_after_s).
    passed_by: dict[str, datetime] = field(default_factory=dict)
    escalated: bool = False
    bot_transcript: tuple[TranscriptLine, ...] = ()
    offers_made: int = 0
    last_provider_message_id: str | None = None
    account_id: str | None = None  # the desk's account the customer wrote to
    subject: str | None = None  # email
    # Provider message ids of this conversation, so a provider's retry is routed once.
    provider_message_ids: set[str] = field(default_factory=set)
    # The tenant's n-th conversation: a restored state lists its conversations (and so
    # queues those of equal rank) in the order they opened, as the live one did.
    ordinal: int = 0

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


@dataclass(slots=True)
class Survey:
    """Surveys still to be answered about a closed conversation (the next one was sent)."""

    conversation: Conversation
    pending: tuple[Kind, ...]
    asked_at: datetime


@dataclass(slots=True)
class Agent:
    agent_id: str
    name: str
    skills: dict[str, int]
    languages: frozenset[str]
    capacity: dict[Channel, int]
    active: bool = True
    status: AgentStatus = OFFLINE
    # Conversations offered to or held by the agent, per channel.
    load: dict[Channel, int] = field(default_factory=dict)
    idle_since: datetime | None = None
    missed_offers: int = 0
    # Closed conversation id -> (its channel, until when): after-contact work that still
    # takes a slot, counted in `load` (QueueUpserted.wrap_up_s).
    wrap_ups: dict[str, tuple[Channel, datetime]] = field(default_factory=dict)
    # Grows with every change to status or load, so older index entries are known stale.
    version: int = 0

    def free(self, channel: Channel) -> int:
        return self.capacity.get(channel, 0) - self.load.get(channel, 0)

    @property
    def occupancy(self) -> float:
        """Share of the agent's total capacity in use (0 when the agent has none)."""
        total = sum(self.capacity.values())
        return sum(self.load.values()) / total if total else 0.0

    @property
    def takes_work(self) -> bool:
        return self.active and self.status is AVAILABLE


@dataclass(slots=True)
class Queue:
    """A queue's settings and its waiting conversations, best first.

    Conversations rank by priority, then by effective wait: one of priority p
    that arrived at t ranks as if it had arrived at t - p * aging_s. Every
    waiting conversation ages at the same rate, so the order never changes with
    time and a sorted list keeps it (insert and remove by bisection); low
    priority never starves, since after `aging_s` of waiting it ranks with one
    level higher.
    """

    config: QueueUpserted
    _order: list[tuple[float, int, str]] = field(default_factory=list)
    _entries: dict[str, tuple[float, int, str]] = field(default_factory=dict)
    _seq: int = 0

    def push(self, conversation: Conversation) -> None:
        assert conversation.queued_at is not None
        self.remove(conversation.conversation_id)
        rank = conversation.queued_at.timestamp() - conversation.priority * self.config.aging_s
        self._seq += 1
        entry = (rank, self._seq, conversation.conversation_id)
        self._entries[conversation.conversation_id] = entry
        bisect.insort(self._order, entry)

    def remove(self, conversation_id: str) -> None:
        entry = self._entries.pop(conversation_id, None)
        if entry is not None:
            del self._order[bisect.bisect_left(self._order, entry)]

    def waiting(self) -> list[str]:
        """Waiting conversation ids, best first (a copy: callers may offer as they go)."""
        return [entry[2] for entry in self._order]

    def __iter__(self) -> Iterator[str]:
        """Waiting conversation ids, best first, without a copy: do not change the queue
        while iterating."""
        # A generator, not a generator expression: compiled (mypyc), that would be a list
        # of the whole queue, and the caller mostly wants its first few.
        for entry in self._order:
            yield entry[2]

    def rank(self, conversation_id: str) -> float:
        """The conversation's effective arrival time: comparable across queues."""
        return self._entries[conversation_id][0]

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, conversation_id: str) -> bool:
        return conversation_id in self._entries


def _preference(agent: Agent) -> tuple[float, float, str, int]:
    """Lowest occupancy first, then longest idle, then agent id (see selection.py)."""
    idle = agent.idle_since.timestamp() if agent.idle_since else float("inf")
    return (agent.occupancy, idle, agent.agent_id, agent.version)


@dataclass(slots=True)
class TenantState:
    tenant: str
    agents: dict[str, Agent] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    rules: RoutingRulesChanged | None = None
    conversations: dict[str, Conversation] = field(default_factory=dict)
    # Open conversations only: a closed one leaves the state (its events keep its history).
    # (channel, thread key) -> the open conversation of that thread.
    threads: dict[tuple[Channel, str], str] = field(default_factory=dict)
    # Email Message-IDs of open conversations, so replies join by In-Reply-To / References.
    email_ids: dict[str, str] = field(default_factory=dict)
    # Customer id -> (agent id, when the agent last held one of the customer's conversations).
    last_agent: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    # Customer id -> when each of the customer's recent conversations opened.
    contacts: dict[str, list[datetime]] = field(default_factory=dict)
    # Customer id -> provider ids of the messages of their last closed conversation: one
    # of them delivered again after the close (a provider's retry of a webhook whose
    # answer was lost) is not a new conversation.
    closed_messages: dict[str, set[str]] = field(default_factory=dict)
    # (channel, thread key) -> the survey sent after its last conversation closed, oldest
    # first (the order they were sent in), so expiry looks only at the front.
    surveys: dict[tuple[Channel, str], Survey] = field(default_factory=dict)
    # Offer id -> conversation id, for offers not yet accepted, declined or expired.
    offers: dict[str, str] = field(default_factory=dict)
    # Agents with after-contact work under way (an ordered set): a tick looks at these only.
    wrapping: dict[str, None] = field(default_factory=dict)
    # Agents who take work and have room on some channel (an ordered set), and the same
    # agents in the order the selection prefers them: a heap of (occupancy, idle since,
    # agent id, version) whose entries of older versions are skipped when they surface.
    ready: dict[str, None] = field(default_factory=dict)
    preferred: list[tuple[float, float, str, int]] = field(default_factory=list)
    # What changed during one decision, for the matching at its end: conversations that
    # started waiting, agents who gained room, and whether to look at everything (time
    # passed or the configuration changed). Empty between decisions; never stored.
    newly_waiting: list[str] = field(default_factory=list)
    newly_free: dict[str, None] = field(default_factory=dict)
    rescan: bool = False
    # Customers whose last agent, contacts or closed messages changed since the service
    # last stored them.
    customers_changed: set[str] = field(default_factory=set)
    opened: int = 0  # conversations opened so far: the next one's ordinal
    # `queues` highest priority first, then by id; sorted again after a queue changes.
    _by_priority: list[Queue] | None = None

    def upsert_queue(self, config: QueueUpserted) -> Queue:
        queue = self.queues.get(config.queue_id)
        if queue is None:
            queue = self.queues[config.queue_id] = Queue(config)
        else:
            queue.config = config
        self._by_priority = None
        return queue

    def by_priority(self) -> list[Queue]:
        """The queues in the order they are served: an agent freed every few decisions
        needs it, and sorting them each time was 4% of a decision."""
        if self._by_priority is None:
            self._by_priority = sorted(
                self.queues.values(), key=lambda q: (-q.config.priority, q.config.queue_id)
            )
        return self._by_priority

    def refresh(self, agent: Agent, *, gained_room: bool = False) -> None:
        """Keep the indexes of free agents true after any change to an agent."""
        agent.version += 1
        self._index(agent, gained_room=gained_room)

    def _index(self, agent: Agent, *, gained_room: bool = False) -> None:
        if agent.takes_work and any(agent.free(channel) > 0 for channel in agent.capacity):
            self.ready[agent.agent_id] = None
            heapq.heappush(self.preferred, _preference(agent))
            if gained_room:
                self.newly_free[agent.agent_id] = None
        else:
            self.ready.pop(agent.agent_id, None)
        if len(self.preferred) > 2 * len(self.ready) + 64:
            self.preferred = [_preference(self.agents[agent_id]) for agent_id in self.ready]
            heapq.heapify(self.preferred)

    def is_current(self, entry: tuple[float, float, str, int]) -> bool:
        agent = self.agents.get(entry[2])
        return agent is not None and agent.version == entry[3] and entry[2] in self.ready

    @classmethod
    def restore(
        cls,
        tenant: str,
        *,
        agents: list[Agent],
        queues: list[QueueUpserted],
        rules: RoutingRulesChanged | None,
        conversations: list[Conversation],
        last_agent: dict[str, tuple[str, datetime]],
        contacts: dict[str, list[datetime]],
        closed_messages: dict[str, set[str]] | None = None,
        surveys: Sequence[Survey] = (),
        opened: int = 0,
    ) -> TenantState:
        """Rebuild a stored state, with the indexes derived from its conversations."""
        state = cls(
            tenant,
            agents={agent.agent_id: agent for agent in agents},
            queues={config.queue_id: Queue(config) for config in queues},
            rules=rules,
            last_agent=last_agent,
            contacts=contacts,
            closed_messages=closed_messages or {},
            surveys={(s.conversation.channel, s.conversation.thread_key): s for s in surveys},
            opened=opened,
        )
        for conversation in sorted(conversations, key=lambda c: c.ordinal):
            cid = conversation.conversation_id
            state.conversations[cid] = conversation
            state.threads[(conversation.channel, conversation.thread_key)] = cid
            if conversation.channel is Channel.EMAIL:
                state.email_ids.update(dict.fromkeys(conversation.provider_message_ids, cid))
            if conversation.offer is not None:
                state.offers[conversation.offer.offer_id] = cid
            if conversation.stage is QUEUED and conversation.queue_id in state.queues:
                state.queues[conversation.queue_id].push(conversation)
        for agent in agents:
            state._index(agent)
            if agent.wrap_ups:
                state.wrapping[agent.agent_id] = None
        return state
