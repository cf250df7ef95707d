"""Which agents may take a conversation, and which of them gets it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from services.router.core.state import Agent, Conversation, Queue, TenantState


def ring(queue: Queue, conversation: Conversation, now: datetime) -> int:
    """How many bullseye rings the conversation's wait has passed."""
    if conversation.queued_at is None:
        return 0
    waited = (now - conversation.queued_at).total_seconds()
    return sum(waited >= after for after in queue.config.relax_after_s)


def is_eligible(
    agent: Agent, conversation: Conversation, queue: Queue, now: datetime, *, reoffer_after_s: int
) -> bool:
    if not agent.takes_work or agent.free(conversation.channel) <= 0:
        return False
    passed = conversation.passed_by.get(agent.agent_id)
    if passed is not None and (now - passed).total_seconds() < reoffer_after_s:
        return False
    rings = ring(queue, conversation, now)
    if queue.config.relax_after_s and rings == len(queue.config.relax_after_s):
        return True  # the outermost ring: anyone who serves the channel
    if agent.languages and conversation.language not in agent.languages:
        return False
    return all(
        agent.skills.get(skill, 0) >= max(1, level - rings)
        for skill, level in queue.config.required_skills.items()
    )


def could_serve(agent: Agent, queue: Queue) -> bool:
    """Whether the agent may take some of the queue's conversations: they hold its skills,
    or its bullseye rings relax them (past the last ring, anyone may)."""
    if queue.config.relax_after_s:
        return True
    return all(
        agent.skills.get(skill, 0) >= level for skill, level in queue.config.required_skills.items()
    )


def sticky_agent(state: TenantState, conversation: Conversation, now: datetime) -> Agent | None:
    """The customer's previous agent, while the tenant's sticky window lasts."""
    previous = state.last_agent.get(conversation.customer.id)
    window = state.rules.sticky_window_s if state.rules else 0
    if previous is None or (now - previous[1]).total_seconds() > window:
        return None
    return state.agents.get(previous[0])


class Selection(Protocol):
    """Picks one of the eligible agents; other tools' policies plug in here for comparison."""

    def __call__(
        self,
        eligible: Iterable[Agent],
        conversation: Conversation,
        state: TenantState,
        now: datetime,
    ) -> Agent | None: ...


def omniroute_selection(
    eligible: Iterable[Agent], conversation: Conversation, state: TenantState, now: datetime
) -> Agent | None:
    """The customer's previous agent if eligible (sticky), then lowest occupancy, then
    longest idle; agent id last, so the choice never depends on dictionary order."""
    candidates = list(eligible)
    if not candidates:
        return None
    sticky = sticky_agent(state, conversation, now)
    if sticky is not None and sticky in candidates:
        return sticky
    return min(
        candidates,
        key=lambda agent: (
            agent.occupancy,
            agent.idle_since.timestamp() if agent.idle_since else float("inf"),
            agent.agent_id,
        ),
    )
