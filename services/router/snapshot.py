"""A tenant's routing state as JSON, for the router's table (and back)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, TypeAdapter

from services.router.core.state import Agent, Conversation, Survey, TenantState
from shared.events import QueueUpserted, RoutingRulesChanged


class Snapshot(BaseModel):
    agents: list[Agent]
    queues: list[QueueUpserted]
    rules: RoutingRulesChanged | None
    conversations: list[Conversation]
    last_agent: dict[str, tuple[str, datetime]]
    contacts: dict[str, list[datetime]]
    surveys: list[Survey] = []


_SNAPSHOT = TypeAdapter(Snapshot)


def dump(state: TenantState) -> bytes:
    return _SNAPSHOT.dump_json(
        Snapshot(
            agents=list(state.agents.values()),
            queues=[queue.config for queue in state.queues.values()],
            rules=state.rules,
            conversations=list(state.conversations.values()),
            last_agent=state.last_agent,
            contacts=state.contacts,
            surveys=list(state.surveys.values()),
        )
    )


def load(tenant: str, raw: bytes) -> TenantState:
    snapshot = _SNAPSHOT.validate_json(raw)
    return TenantState.restore(
        tenant,
        agents=snapshot.agents,
        queues=snapshot.queues,
        rules=snapshot.rules,
        conversations=snapshot.conversations,
        last_agent=snapshot.last_agent,
        contacts=snapshot.contacts,
        surveys=snapshot.surveys,
    )
