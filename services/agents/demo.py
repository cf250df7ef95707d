"""The demo tenant that `omniroute run` creates on first start, ready to try by hand."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.agents import configuration
from services.agents.bot.demo_faq import DEMO_FAQ
from shared.db.models import BotFaq, Tenant
from shared.db.unit_of_work import UnitOfWork
from shared.events import (
    AgentUpserted,
    Channel,
    QueueUpserted,
    RoutingRule,
    RoutingRulesChanged,
    utcnow,
)

_ALL_SKILLS = {"general": 3, "billing": 3, "fraud": 3}
_CAPACITY = {channel: 5 if channel is Channel.EMAIL else 3 for channel in Channel}

DEMO_QUEUES = (
    QueueUpserted(queue_id="general", name="General support", required_skills={"general": 1}),
    QueueUpserted(
        queue_id="billing",
        name="Billing",
        required_skills={"billing": 1},
        priority=1,
        wrap_up_s=30,  # after-contact work: notes on the refund, a follow-up
    ),
    QueueUpserted(
        queue_id="fraud",
        name="Fraud & security",
        required_skills={"fraud": 2},
        priority=2,
        service_level_target_s=15,
    ),
)
DEMO_AGENTS = tuple(
    AgentUpserted(
        agent_id=agent_id,
        name=name,
        email=f"{agent_id}@demo.omniroute.invalid",
        skills=_ALL_SKILLS,
        languages=("en", "es"),
        capacity=_CAPACITY,
    )
    for agent_id, name in (("ana", "Ana García"), ("ben", "Ben Okafor"), ("chen", "Chen Wei"))
)
DEMO_RULES = RoutingRulesChanged(
    default_queue_id="general",
    bot_channels=tuple(Channel),
    rules=(
        RoutingRule(intent="fraud", queue_id="fraud"),
        RoutingRule(intent="chargeback", queue_id="fraud"),
        RoutingRule(intent="invoice", queue_id="billing"),
        RoutingRule(intent="refund", queue_id="billing"),
    ),
)


async def ensure_demo_tenant(sessions: async_sessionmaker[AsyncSession], tenant: str) -> bool:
    """Create the demo tenant and publish its configuration once; True if it was created."""
    async with UnitOfWork(sessions) as uow:
        if await uow.session.get(Tenant, tenant) is not None:
            return False
        uow.session.add(Tenant(id=tenant, name="Demo desk"))
        for item in (*DEMO_QUEUES, *DEMO_AGENTS, DEMO_RULES):
            await configuration.save(uow, tenant, item)
        now = utcnow()
        uow.session.add_all(
            BotFaq(tenant=tenant, updated_at=now, **entry.model_dump()) for entry in DEMO_FAQ
        )
        await uow.commit()
        return True
