"""The desk's configuration: stored here, published on cc.config.v1 for the router.

A change and its event commit together (unit of work with the outbox), so the
router's copy never drifts from what the API shows.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.models import ConfigurationItem
from shared.db.unit_of_work import UnitOfWork
from shared.events import (
    CONFIG,
    AgentUpserted,
    Envelope,
    Payload,
    QueueUpserted,
    RoutingRulesChanged,
    utcnow,
)

P = TypeVar("P", bound=Payload)

RULES_ID = "rules"


_KINDS: dict[type[Payload], str] = {
    AgentUpserted: "agent",
    QueueUpserted: "queue",
    RoutingRulesChanged: "rules",
}


def kind_and_id(item: Payload) -> tuple[str, str]:
    match item:
        case AgentUpserted(agent_id=item_id) | QueueUpserted(queue_id=item_id):
            return _KINDS[type(item)], item_id
        case RoutingRulesChanged():
            return _KINDS[type(item)], RULES_ID
    raise TypeError(f"{type(item).__name__} is not configuration")


async def save(uow: UnitOfWork, tenant: str, item: Payload) -> None:
    """Store the item and queue its event; the caller's commit makes both happen."""
    kind, item_id = kind_and_id(item)
    row = await uow.session.get(ConfigurationItem, (tenant, kind, item_id))
    body = item.model_dump_json()
    if row is None:
        uow.session.add(
            ConfigurationItem(
                tenant=tenant, kind=kind, item_id=item_id, body=body, updated_at=utcnow()
            )
        )
    else:
        row.body, row.updated_at = body, utcnow()
    uow.emit(CONFIG, Envelope.wrap(item, tenant=tenant, key=f"{kind}:{item_id}"))


async def get(
    sessions: async_sessionmaker[AsyncSession], tenant: str, kind: type[P], item_id: str
) -> P | None:
    async with sessions() as session:
        row = await session.get(ConfigurationItem, (tenant, _kind(kind), item_id))
    return kind.model_validate_json(row.body) if row else None


async def all_of(sessions: async_sessionmaker[AsyncSession], tenant: str, kind: type[P]) -> list[P]:
    async with sessions() as session:
        rows = await session.scalars(
            select(ConfigurationItem)
            .where(ConfigurationItem.tenant == tenant, ConfigurationItem.kind == _kind(kind))
            .order_by(ConfigurationItem.item_id)
        )
        return [kind.model_validate_json(row.body) for row in rows]


def _kind(payload_type: type[Payload]) -> str:
    return _KINDS[payload_type]
