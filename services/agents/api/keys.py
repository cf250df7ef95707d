"""/v1/me and /v1/keys: who a key is, and the admin's management of keys."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field
from sqlalchemy import select, update

from services.agents.api.page import Page
from services.agents.auth import Admin, AnyRole, Role, new_key, store_key
from shared.db.models import ApiKey
from shared.events import utcnow
from shared.runtime import RuntimeDep

router = APIRouter(prefix="/v1", tags=["keys"])


class Me(BaseModel):
    tenant: str
    role: Role
    agent_id: str | None


class KeyRequest(BaseModel):
    role: Role
    agent_id: str | None = Field(None, min_length=1, max_length=200)
    name: str | None = Field(None, max_length=200)


class KeyView(BaseModel):
    key_id: str
    role: Role
    agent_id: str | None
    name: str | None
    created_at: str


class NewKey(KeyView):
    key: str = Field(description="The key itself: shown this once, stored only as a hash.")


@router.get("/me")
async def me(principal: AnyRole) -> Me:
    return Me(tenant=principal.tenant, role=principal.role, agent_id=principal.agent_id)


@router.post("/keys", status_code=201)
async def create_key(request: KeyRequest, principal: Admin, runtime: RuntimeDep) -> NewKey:
    if request.role is Role.AGENT and not request.agent_id:
        raise HTTPException(422, "an agent key needs agent_id")
    key = new_key()
    key_id = await store_key(
        runtime.sessions,
        key=key,
        tenant=principal.tenant,
        role=request.role,
        agent_id=request.agent_id,
        name=request.name,
    )
    return NewKey(
        key_id=key_id,
        key=key,
        role=request.role,
        agent_id=request.agent_id if request.role is Role.AGENT else None,
        name=request.name,
        created_at=utcnow().isoformat(),
    )


@router.get("/keys")
async def list_keys(principal: Admin, runtime: RuntimeDep) -> Page[KeyView]:
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(ApiKey)
            .where(ApiKey.tenant == principal.tenant, ApiKey.revoked_at.is_(None))
            .order_by(ApiKey.created_at)
        )
        return Page(
            items=[
                KeyView(
                    key_id=row.key_id,
                    role=Role(row.role),
                    agent_id=row.agent_id,
                    name=row.name,
                    created_at=row.created_at.isoformat(),
                )
                for row in rows
            ]
        )


@router.delete("/keys/{key_id}", status_code=204)
async def revoke_key(key_id: str, principal: Admin, runtime: RuntimeDep) -> Response:
    async with runtime.sessions() as session, session.begin():
        result = await session.execute(
            update(ApiKey)
            .where(
                ApiKey.key_id == key_id,
                ApiKey.tenant == principal.tenant,
                ApiKey.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise HTTPException(404, "no such key in this tenant")
    return Response(status_code=204)
