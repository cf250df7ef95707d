"""/v1/bot/faq: the FAQ the built-in bot answers from (admins write, supervisors read).
A change is live for the next customer question: the bot reads the FAQ as it answers."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.agents.api.page import Page
from services.agents.auth import Admin, Principal, Role, allow
from services.agents.bot.faq import FaqEntry
from shared.db.models import BotFaq
from shared.events import utcnow
from shared.runtime import Runtime, RuntimeDep
from shared.types import ItemId

router = APIRouter(prefix="/v1/bot", tags=["bot"])

Reader = Annotated[Principal, Depends(allow(Role.SUPERVISOR, Role.ADMIN))]


class FaqSpec(BaseModel):
    language: Literal["en", "es"]
    question: str = Field(min_length=1, max_length=1000)
    answer: str = Field(min_length=1, max_length=5000)


def _entry(row: BotFaq) -> FaqEntry:
    return FaqEntry(
        faq_id=row.faq_id, language=row.language, question=row.question, answer=row.answer
    )


async def _save(runtime: Runtime, tenant: str, entry: FaqEntry) -> None:
    async with runtime.sessions() as session, session.begin():
        row = await session.get(BotFaq, (tenant, entry.faq_id))
        if row is None:
            session.add(BotFaq(tenant=tenant, updated_at=utcnow(), **entry.model_dump()))
        else:
            row.language, row.question, row.answer = entry.language, entry.question, entry.answer
            row.updated_at = utcnow()


@router.get("/faq")
async def list_faq(
    principal: Reader, runtime: RuntimeDep, language: Literal["en", "es"] | None = None
) -> Page[FaqEntry]:
    query = select(BotFaq).where(BotFaq.tenant == principal.tenant).order_by(BotFaq.faq_id)
    if language is not None:
        query = query.where(BotFaq.language == language)
    async with runtime.sessions() as session:
        return Page(items=[_entry(row) for row in await session.scalars(query)])


@router.post("/faq", status_code=201)
async def create_faq(entry: FaqEntry, principal: Admin, runtime: RuntimeDep) -> FaqEntry:
    async with runtime.sessions() as session:
        if await session.get(BotFaq, (principal.tenant, entry.faq_id)) is not None:
            raise HTTPException(409, f"FAQ entry {entry.faq_id!r} exists: PUT changes it")
    await _save(runtime, principal.tenant, entry)
    return entry


@router.get("/faq/{faq_id}")
async def read_faq(faq_id: str, principal: Reader, runtime: RuntimeDep) -> FaqEntry:
    async with runtime.sessions() as session:
        row = await session.get(BotFaq, (principal.tenant, faq_id))
    if row is None:
        raise HTTPException(404, f"no FAQ entry {faq_id!r}")
    return _entry(row)


@router.put("/faq/{faq_id}")
async def put_faq(faq_id: ItemId, spec: FaqSpec, principal: Admin, runtime: RuntimeDep) -> FaqEntry:
    entry = FaqEntry(faq_id=faq_id, **spec.model_dump())
    await _save(runtime, principal.tenant, entry)
    return entry


@router.delete("/faq/{faq_id}", status_code=204)
async def delete_faq(faq_id: str, principal: Admin, runtime: RuntimeDep) -> Response:
    async with runtime.sessions() as session, session.begin():
        row = await session.get(BotFaq, (principal.tenant, faq_id))
        if row is None:
            raise HTTPException(404, f"no FAQ entry {faq_id!r}")
        await session.delete(row)
    return Response(status_code=204)
