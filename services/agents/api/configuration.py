"""/v1/agents, /v1/queues and /v1/routing/rules: the desk's configuration.

Admins change it, supervisors read it. Every change is published on cc.config.v1
in the same transaction that stores it, and the router applies it as it comes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field

from services.agents import configuration, live
from services.agents.api.page import Page
from services.agents.auth import Admin, AnyRole, Principal, Role, allow
from services.agents.statistics import HISTORY_WINDOW, HistoryPoint, LiveAgent, QueueStatistics
from shared.events import (
    AgentStatus,
    AgentUpserted,
    Channel,
    OpeningHours,
    QueueUpserted,
    RoutingRulesChanged,
    utcnow,
)
from shared.runtime import Runtime, RuntimeDep
from shared.types import ItemId, TimeZoneName

router = APIRouter(prefix="/v1", tags=["configuration"])

Reader = Annotated[Principal, Depends(allow(Role.SUPERVISOR, Role.ADMIN))]
Proficiency = Annotated[int, Field(ge=1, le=5)]
HISTORY_MINUTES = int(HISTORY_WINDOW.total_seconds() // 60)


class AgentSpec(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=320)
    skills: dict[str, Proficiency] = Field(default_factory=dict, description="Skill -> 1 to 5.")
    languages: tuple[str, ...] = ()
    capacity: dict[Channel, Annotated[int, Field(ge=0, le=100)]] = Field(
        default_factory=dict, description="Concurrent conversations per channel."
    )


class NewAgent(AgentSpec):
    agent_id: ItemId


class QueueSpec(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    required_skills: dict[str, Proficiency] = Field(default_factory=dict)
    priority: int = Field(0, ge=0, le=100)
    channels: tuple[Channel, ...] = tuple(Channel)
    service_level_target_s: int = Field(20, ge=1)
    service_level_target_pct: float = Field(80.0, gt=0, le=100)
    offer_timeout_s: int = Field(30, ge=5, le=600)
    auto_accept: bool = False
    aging_s: int = Field(120, ge=1)
    relax_after_s: tuple[int, ...] = ()
    business_hours: tuple[OpeningHours, ...] = ()
    timezone: TimeZoneName = "UTC"
    closed_message: str | None = None
    surveys: tuple[Literal["csat", "nps"], ...] = Field((), max_length=2)
    survey_channels: tuple[Channel, ...] = tuple(Channel)
    wrap_up_s: int = Field(0, ge=0, le=3600)


class NewQueue(QueueSpec):
    queue_id: ItemId


async def _save(
    runtime: Runtime, tenant: str, item: AgentUpserted | QueueUpserted | RoutingRulesChanged
) -> None:
    async with runtime.unit_of_work() as uow:
        await configuration.save(uow, tenant, item)
        await uow.commit()


class AgentView(AgentUpserted):
    status: AgentStatus = Field(description="Presence as the router sees it.")
    status_reason: str | None = Field(
        None, description="Why away or offline (lunch, a meeting, missed offers), if known."
    )
    status_since: str | None = Field(None, description="Since when in this status and reason.")
    load: dict[Channel, int] = Field(description="Conversations held now, per channel.")
    occupancy: float | None = Field(description="Share of the agent's capacity in use now.")


class QueueView(QueueUpserted, QueueStatistics):
    """The queue's configuration and its live figures."""


def _agent_view(agent: LiveAgent) -> AgentView:
    return AgentView(
        **agent.config.model_dump(),
        status=agent.status,
        status_reason=agent.reason,
        status_since=agent.since.isoformat() if agent.since else None,
        load=agent.load,
        occupancy=agent.occupancy,
    )


@router.get("/agents")
async def list_agents(principal: AnyRole, runtime: RuntimeDep) -> Page[AgentView]:
    """Active agents with their live status, load and occupancy (agents read it too, to
    pick whom to transfer a conversation to)."""
    now = await live.desk(runtime.reads, principal.tenant, utcnow())
    return Page(items=[_agent_view(agent) for agent in now.agents])


@router.post("/agents", status_code=201)
async def create_agent(spec: NewAgent, principal: Admin, runtime: RuntimeDep) -> AgentUpserted:
    existing = await configuration.get(
        runtime.sessions, principal.tenant, AgentUpserted, spec.agent_id
    )
    if existing is not None and existing.active:
        raise HTTPException(409, f"agent {spec.agent_id!r} exists: PUT changes it")
    agent = AgentUpserted(**spec.model_dump())
    await _save(runtime, principal.tenant, agent)
    return agent


@router.get("/agents/{agent_id}")
async def read_agent(agent_id: str, principal: Reader, runtime: RuntimeDep) -> AgentView:
    now = await live.desk(runtime.reads, principal.tenant, utcnow())
    agent = next((a for a in now.agents if a.config.agent_id == agent_id), None)
    if agent is None:
        raise HTTPException(404, f"no agent {agent_id!r}")
    return _agent_view(agent)


@router.put("/agents/{agent_id}")
async def put_agent(
    agent_id: ItemId, spec: AgentSpec, principal: Admin, runtime: RuntimeDep
) -> AgentUpserted:
    agent = AgentUpserted(agent_id=agent_id, **spec.model_dump())
    await _save(runtime, principal.tenant, agent)
    return agent


@router.delete("/agents/{agent_id}", status_code=204)
async def delete_agent(agent_id: str, principal: Admin, runtime: RuntimeDep) -> Response:
    """The agent is deactivated: the router takes them offline and moves their offers on;
    conversations they hold stay theirs to close."""
    agent = await configuration.get(runtime.sessions, principal.tenant, AgentUpserted, agent_id)
    if agent is None or not agent.active:
        raise HTTPException(404, f"no agent {agent_id!r}")
    await _save(runtime, principal.tenant, agent.model_copy(update={"active": False}))
    return Response(status_code=204)


def _queue_view(now: live.Desk, queue: QueueUpserted) -> QueueView:
    return QueueView(**queue.model_dump(), **now.statistics(queue).model_dump())


@router.get("/queues")
async def list_queues(principal: AnyRole, runtime: RuntimeDep) -> Page[QueueView]:
    """Queues with waiting, longest wait, EWT, ASA, service level, abandonment, handle
    time and staffing; an agent sees the queues they serve."""
    now = await live.desk(runtime.reads, principal.tenant, utcnow())
    queues = now.queues_of(principal.agent_id or "") if principal.role is Role.AGENT else now.queues
    return Page(items=[_queue_view(now, queue) for queue in queues])


@router.post("/queues", status_code=201)
async def create_queue(spec: NewQueue, principal: Admin, runtime: RuntimeDep) -> QueueUpserted:
    if await configuration.get(runtime.sessions, principal.tenant, QueueUpserted, spec.queue_id):
        raise HTTPException(409, f"queue {spec.queue_id!r} exists: PUT changes it")
    queue = QueueUpserted(**spec.model_dump())
    await _save(runtime, principal.tenant, queue)
    return queue


async def _visible_queue(
    runtime: Runtime, principal: Principal, queue_id: str
) -> tuple[live.Desk, QueueUpserted]:
    now = await live.desk(runtime.reads, principal.tenant, utcnow())
    queue = next((q for q in now.queues if q.queue_id == queue_id), None)
    if queue is None:
        raise HTTPException(404, f"no queue {queue_id!r}")
    if principal.role is Role.AGENT and queue not in now.queues_of(principal.agent_id or ""):
        raise HTTPException(403, "agents see the queues they serve")
    return now, queue


@router.get("/queues/{queue_id}")
async def read_queue(queue_id: str, principal: AnyRole, runtime: RuntimeDep) -> QueueView:
    now, queue = await _visible_queue(runtime, principal, queue_id)
    return _queue_view(now, queue)


@router.get("/queues/{queue_id}/history")
async def queue_history(
    queue_id: str,
    principal: AnyRole,
    runtime: RuntimeDep,
    minutes: Annotated[int, Query(ge=1, le=HISTORY_MINUTES)] = HISTORY_MINUTES,
) -> Page[HistoryPoint]:
    """Waiting conversations and the service level (of the 15 minutes before) at each
    minute of the last `minutes`, oldest first: the wallboard's chart."""
    now, queue = await _visible_queue(runtime, principal, queue_id)
    return Page(items=now.history(queue, minutes))


@router.put("/queues/{queue_id}")
async def put_queue(
    queue_id: ItemId, spec: QueueSpec, principal: Admin, runtime: RuntimeDep
) -> QueueUpserted:
    queue = QueueUpserted(queue_id=queue_id, **spec.model_dump())
    await _save(runtime, principal.tenant, queue)
    return queue


@router.get("/routing/rules")
async def read_rules(principal: Reader, runtime: RuntimeDep) -> RoutingRulesChanged:
    rules = await configuration.get(
        runtime.sessions, principal.tenant, RoutingRulesChanged, configuration.RULES_ID
    )
    if rules is None:
        raise HTTPException(404, "no routing rules yet: PUT them")
    return rules


@router.put("/routing/rules")
async def put_rules(
    rules: RoutingRulesChanged, principal: Admin, runtime: RuntimeDep
) -> RoutingRulesChanged:
    queues = {
        q.queue_id
        for q in await configuration.all_of(runtime.reads, principal.tenant, QueueUpserted)
    }
    unknown = sorted({rules.default_queue_id, *(rule.queue_id for rule in rules.rules)} - queues)
    if unknown:
        raise HTTPException(422, f"unknown queues: {', '.join(unknown)}")
    await _save(runtime, principal.tenant, rules)
    return rules
