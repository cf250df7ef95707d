"""A tenant's routing state as JSON, for the router's tables (and back).

Three parts, so that a batch writes what it changed rather than the whole state: the
tenant's part (agents, queues, rules, surveys: bounded by the desk's size), a row per
open conversation and a row per customer the router remembers (last agent, recent
contacts). `touched` says which rows a batch changed.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, TypeAdapter

from services.router.core.decide import Out
from services.router.core.state import Agent, Conversation, Offer, Survey, TenantState
from shared.events import Envelope, QueueUpserted, RoutingRulesChanged


def _as_written(*classes: type) -> None:
    """Give the fields of the state's dataclasses the annotations their source writes.

    Compiled with mypyc (shared/compiled.py), a dataclass keeps only the outer class of
    a field's type (`Offer | None` becomes `type`, `dict[str, datetime]` becomes
    `dict`): too little for pydantic to store and load it. Interpreted, the fields hold
    these same strings (`from __future__ import annotations`); pydantic resolves them
    in the module of the class. A compiled instance has no `__dict__` either: the class
    names its fields in `__slots__`, as the interpreted one does, so that pydantic sets
    them one by one. (So these classes keep the `__init__` dataclass generates: pydantic
    makes them through `__new__`, which a compiled class with its own `__init__` runs
    without arguments.)
    """
    source = ast.parse((Path(__file__).parent / "core" / "state.py").read_text())
    written = {
        node.name: {
            line.target.id: ast.unparse(line.annotation)
            for line in node.body
            if isinstance(line, ast.AnnAssign) and isinstance(line.target, ast.Name)
        }
        for node in source.body
        if isinstance(node, ast.ClassDef)
    }
    for cls in classes:
        fields = dataclasses.fields(cls)
        for field in fields:
            field.type = written[cls.__name__][field.name]
        if not hasattr(cls, "__slots__"):
            cls.__slots__ = tuple(field.name for field in fields)  # type: ignore[attr-defined]


_as_written(Agent, Conversation, Offer, Survey)


class TenantPart(BaseModel):
    agents: list[Agent]
    queues: list[QueueUpserted]
    rules: RoutingRulesChanged | None
    surveys: list[Survey] = []
    opened: int = 0


class CustomerPart(BaseModel):
    last_agent: tuple[str, datetime] | None = None
    contacts: list[datetime] = []
    closed_messages: list[str] = []


_TENANT = TypeAdapter(TenantPart)
_CONVERSATION = TypeAdapter(Conversation)
_CUSTOMER = TypeAdapter(CustomerPart)


@dataclass(frozen=True)
class Touched:
    """Rows a batch may have changed: those still in the state are written again, the
    conversations no longer in it (closed, abandoned) deleted."""

    conversations: frozenset[str]
    customers: frozenset[str]


def touched(state: TenantState, inputs: Iterable[Envelope], outputs: Iterable[Out]) -> Touched:
    """Every change the core makes to a conversation comes with an event about it (in
    or out); a customer's memory changes when their conversation opens or is answered,
    and the core names them in `state.customers_changed`."""
    # From the payload's fields, not getattr: on a payload without the field (every
    # MessageReceived) pydantic's __getattr__ raises, 2 µs an input (2% of the router).
    conversations = {
        cid
        for data in (*(e.data for e in inputs), *(o.data for o in outputs))
        if (cid := vars(data).get("conversation_id")) is not None
    }
    customers = frozenset(state.customers_changed)
    state.customers_changed.clear()
    return Touched(frozenset(conversations), customers)


def dump_tenant(state: TenantState) -> bytes:
    return _TENANT.dump_json(
        TenantPart(
            agents=list(state.agents.values()),
            queues=[queue.config for queue in state.queues.values()],
            rules=state.rules,
            surveys=list(state.surveys.values()),
            opened=state.opened,
        )
    )


def dump_conversation(conversation: Conversation) -> bytes:
    return _CONVERSATION.dump_json(conversation)


def dump_customer(state: TenantState, customer_id: str) -> bytes | None:
    """None: nothing to remember of this customer."""
    last_agent = state.last_agent.get(customer_id)
    contacts = state.contacts.get(customer_id, [])
    closed = sorted(state.closed_messages.get(customer_id, ()))
    if last_agent is None and not contacts and not closed:
        return None
    return _CUSTOMER.dump_json(
        CustomerPart(last_agent=last_agent, contacts=contacts, closed_messages=closed)
    )


def load(
    tenant: str,
    part: bytes,
    conversations: Sequence[bytes],
    customers: Iterable[tuple[str, bytes]],
) -> TenantState:
    whole = _TENANT.validate_json(part)
    people = {customer: _CUSTOMER.validate_json(raw) for customer, raw in customers}
    return TenantState.restore(
        tenant,
        agents=whole.agents,
        queues=whole.queues,
        rules=whole.rules,
        conversations=[_CONVERSATION.validate_json(raw) for raw in conversations],
        last_agent={c: p.last_agent for c, p in people.items() if p.last_agent is not None},
        contacts={c: p.contacts for c, p in people.items() if p.contacts},
        closed_messages={c: set(p.closed_messages) for c, p in people.items() if p.closed_messages},
        surveys=whole.surveys,
        opened=whole.opened,
    )
