"""API keys and roles: every /v1 endpoint names the roles it admits.

Keys are random (`or_` + 43 url-safe characters), shown once and stored as a
SHA-256: a lookup by hash of a high-entropy secret reveals nothing by its timing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.models import ApiKey
from shared.events import utcnow
from shared.runtime import Runtime


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    BOT = "bot"  # an external bot: answers the conversations it holds, nothing else


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant, the role, and for an agent key, the agent."""

    key_id: str
    tenant: str
    role: Role
    agent_id: str | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return "or_" + secrets.token_urlsafe(32)


async def store_key(
    sessions: async_sessionmaker[AsyncSession],
    *,
    key: str,
    tenant: str,
    role: Role,
    agent_id: str | None = None,
    name: str | None = None,
) -> str:
    """Keep the hash of `key` for the tenant and role; returns the key id."""
    if role is Role.AGENT and not agent_id:
        raise ValueError("an agent key belongs to one agent: give its id")
    key_id = secrets.token_hex(8)
    async with sessions() as session, session.begin():
        session.add(
            ApiKey(
                key_id=key_id,
                key_hash=hash_key(key),
                tenant=tenant,
                role=role.value,
                agent_id=agent_id if role is Role.AGENT else None,
                name=name,
                created_at=utcnow(),
            )
        )
    return key_id


async def ensure_key(sessions: async_sessionmaker[AsyncSession], *, key: str, tenant: str) -> None:
    """Make `key` an admin key of the tenant unless it already is a key."""
    async with sessions() as session:
        known = await session.scalar(select(ApiKey.key_id).where(ApiKey.key_hash == hash_key(key)))
    if known is None:
        await store_key(sessions, key=key, tenant=tenant, role=Role.ADMIN, name="bootstrap")


async def caller(request: Request, authorization: Annotated[str, Header()] = "") -> Principal:
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key:
        raise HTTPException(
            401,
            "an API key is needed: Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    runtime: Runtime = request.app.state.runtime
    async with runtime.reads() as session:
        row = await session.scalar(
            select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
        )
    if row is None:
        raise HTTPException(
            401, "this API key is not valid", headers={"WWW-Authenticate": "Bearer"}
        )
    return Principal(row.key_id, row.tenant, Role(row.role), row.agent_id)


def allow(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only `roles` (403 for the others)."""

    async def check(principal: Annotated[Principal, Depends(caller)]) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(role.value for role in roles)
            raise HTTPException(403, f"this needs the role {allowed}; the key is {principal.role}")
        return principal

    return check


AnyRole = Annotated[Principal, Depends(allow(Role.AGENT, Role.SUPERVISOR, Role.ADMIN))]
Admin = Annotated[Principal, Depends(allow(Role.ADMIN))]
