"""/v1/agents, /v1/queues and /v1/routing/rules: the desk's configuration.

Admins change it, supervisors read it. Every change is published on cc.config.v1
in the same transaction that stores it, and the router applies it as it comes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, Field

from services.agents import configuration
from services.agents.api.page import Page
from services.agents.auth import Admin, Principal, Role, allow
from shared.db.unit_of_work import UnitOfWork
from shared.events import AgentUpserted, Channel, OpeningHours, QueueUpserted, RoutingRulesChanged
from shared.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/v1", tags=["configuration"])

Reader = Annotated[Principal, Depends(allow(Role.SUPERVISOR, Role.ADMIN))]
Proficiency = Annotated[int, Field(ge=1, le=5)]
Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")]


class AgentSpec(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=320)
    skills: dict[str, Proficiency] = Field(default_factory=dict, description="Skill -> 1 to 5.")
    languages: tuple[str, ...] = ()
    capacity: dict[Channel, Annotated[int, Field(ge=0, le=100)]] = Field(
        default_factory=dict, description="Concurrent conversations per channel."
    )


class NewAgent(AgentSpec):
    agent_id: Id


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
    timezone: str = "UTC"
    closed_message: str | None = None


class NewQueue(QueueSpec):
    queue_id: Id


async def _save(
    runtime: Runtime, tenant: str, item: AgentUpserted | QueueUpserted | RoutingRulesChanged
) -> None:
    async with UnitOfWork(runtime.sessions) as uow:
        await configuration.save(uow, tenant, item)
        await uow.commit()


@router.get("/agents")
async def list_agents(principal: Reader, runtime: RuntimeDep) -> Page[AgentUpserted]:
    agents = await configuration.all_of(runtime.sessions, principal.tenant, AgentUpserted)
    return Page(items=[agent for agent in agents if agent.active])


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
async def read_agent(agent_id: str, principal: Reader, runtime: RuntimeDep) -> AgentUpserted:
    agent = await configuration.get(runtime.sessions, principal.tenant, AgentUpserted, agent_id)
    if agent is None or not agent.active:
        raise HTTPException(404, f"no agent {agent_id!r}")
    return agent


@router.put("/agents/{agent_id}")
async def put_agent(
    agent_id: Id, spec: AgentSpec, principal: Admin, runtime: RuntimeDep
) -> AgentUpserted:
    agent = AgentUpserted(agent_id=agent_id, **spec.model_dump())
    await _save(runtime, principal.tenant, agent)
    return agent


@router.delete("/agents/{agent_id}", status_code=204)
async def delete_agent(agent_id: str, principal: Admin, runtime: RuntimeDep) -> Response:
    """The agent is deactivated: the router takes them offline and moves their offers on;
    conversations they hold stay theirs to close."""
    agent = await read_agent(agent_id, principal, runtime)
    await _save(runtime, principal.tenant, agent.model_copy(update={"active": False}))
    return Response(status_code=204)


@router.get("/queues")
async def list_queues(principal: Reader, runtime: RuntimeDep) -> Page[QueueUpserted]:
    return Page(items=await configuration.all_of(runtime.sessions, principal.tenant, QueueUpserted))


@router.post("/queues", status_code=201)
async def create_queue(spec: NewQueue, principal: Admin, runtime: RuntimeDep) -> QueueUpserted:
    if await configuration.get(runtime.sessions, principal.tenant, QueueUpserted, spec.queue_id):
        raise HTTPException(409, f"queue {spec.queue_id!r} exists: PUT changes it")
    queue = QueueUpserted(**spec.model_dump())
    await _save(runtime, principal.tenant, queue)
    return queue


@router.get("/queues/{queue_id}")
async def read_queue(queue_id: str, principal: Reader, runtime: RuntimeDep) -> QueueUpserted:
    queue = await configuration.get(runtime.sessions, principal.tenant, QueueUpserted, queue_id)
    if queue is None:
        raise HTTPException(404, f"no queue {queue_id!r}")
    return queue


@router.put("/queues/{queue_id}")
async def put_queue(
    queue_id: Id, spec: QueueSpec, principal: Admin, runtime: RuntimeDep
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
        for q in await configuration.all_of(runtime.sessions, principal.tenant, QueueUpserted)
    }
    unknown = sorted({rules.default_queue_id, *(rule.queue_id for rule in rules.rules)} - queues)
    if unknown:
        raise HTTPException(422, f"unknown queues: {', '.join(unknown)}")
    await _save(runtime, principal.tenant, rules)
    return rules
