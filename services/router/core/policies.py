"""Agent selection policies that users know from other tools, for side-by-side comparison
with omniroute's own (selection.omniroute_selection) in `omniroute simulate --compare`.

Each picks one of the agents the core found eligible (available, free capacity for the
channel, and, where the desk routes by skill, holding the skill). The tools they stand
for do not route by skill; the simulator models that by giving them queues without
skill requirements, not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from services.router.core.selection import Selection, omniroute_selection
from services.router.core.state import Agent, Conversation, TenantState


class RoundRobin:
    """The next online agent after the one who got the last conversation, in a fixed
    order, whatever their load (Chatwoot's default auto-assignment)."""

    def __init__(self) -> None:
        self.last: str = ""

    def __call__(
        self,
        eligible: Iterable[Agent],
        conversation: Conversation,
        state: TenantState,
        now: datetime,
    ) -> Agent | None:
        candidates = sorted(eligible, key=lambda agent: agent.agent_id)
        if not candidates:
            return None
        after = [agent for agent in candidates if agent.agent_id > self.last]
        chosen = (after or candidates)[0]
        self.last = chosen.agent_id
        return chosen


def least_busy(
    eligible: Iterable[Agent], conversation: Conversation, state: TenantState, now: datetime
) -> Agent | None:
    """The agent with the fewest open conversations (Rocket.Chat's Load Balancing)."""
    return min(eligible, key=lambda agent: (sum(agent.load.values()), agent.agent_id), default=None)


def longest_idle(
    eligible: Iterable[Agent], conversation: Conversation, state: TenantState, now: datetime
) -> Agent | None:
    """The agent idle for longest; agents still holding work come after every idle one
    (Amazon Connect's routing to the longest-available agent)."""
    return min(
        eligible,
        key=lambda agent: (
            agent.idle_since.timestamp() if agent.idle_since else float("inf"),
            agent.agent_id,
        ),
        default=None,
    )


def policy(name: str) -> Selection:
    """A fresh policy by name (round robin keeps its place, so each run gets its own)."""
    match name:
        case "omniroute":
            return omniroute_selection
        case "round_robin":
            return RoundRobin()
        case "least_busy":
            return least_busy
        case "longest_idle":
            return longest_idle
    raise ValueError(f"unknown policy {name!r}")


POLICIES = ("omniroute", "round_robin", "least_busy", "longest_idle")
