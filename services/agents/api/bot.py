"""/v1/bot/: the FAQ the built-in bot answers from (admins write, supervisors read; live
for the next question), a tenant's external bot (admins), and the external bot's
answers (its `bot` key): reply, escalate, resolve."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, Field, HttpUrl
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.agents.api import commands
from services.agents.api.page import Page
from services.agents.auth import Admin, Principal, Role, allow
from services.agents.bot import worker
from services.agents.bot.faq import FaqEntry, FaqSpec, entry_of
from shared.db.models import BotApplied, BotFaq, BotThread, BotWebhook
from shared.db.unit_of_work import UnitOfWork
from shared.events import BotResolved, ReplySent, Sender, utcnow
from shared.runtime import Runtime, RuntimeDep
from shared.types import ItemId, Text

router = APIRouter(prefix="/v1/bot", tags=["bot"])

BotKey = Annotated[Principal, Depends(allow(Role.BOT))]
Reader = Annotated[Principal, Depends(allow(Role.SUPERVISOR, Role.ADMIN))]


async def _save(runtime: Runtime, tenant: str, entry: FaqEntry) -> None:
    async with runtime.sessions() as session, session.begin():
        # Inserted, or every column replaced: a field added to the entry needs no line here.
        await session.merge(BotFaq(tenant=tenant, updated_at=utcnow(), **entry.model_dump()))


@router.get("/faq")
async def list_faq(
    principal: Reader, runtime: RuntimeDep, language: Literal["en", "es"] | None = None
) -> Page[FaqEntry]:
    query = select(BotFaq).where(BotFaq.tenant == principal.tenant).order_by(BotFaq.faq_id)
    if language is not None:
        query = query.where(BotFaq.language == language)
    async with runtime.sessions() as session:
        return Page(items=[entry_of(row) for row in await session.scalars(query)])


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
    return entry_of(row)


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


class WebhookSpec(BaseModel):
    url: HttpUrl
    secret: str = Field(min_length=16, max_length=200, description="Signs every post.")
    timeout_s: float = Field(10, gt=0, le=60, description="Time the bot has to answer.")


class WebhookView(BaseModel):
    url: str
    timeout_s: float


@router.put("/webhook")
async def put_webhook(spec: WebhookSpec, principal: Admin, runtime: RuntimeDep) -> WebhookView:
    """The tenant's external bot, which then answers instead of the built-in one."""
    async with runtime.sessions() as session, session.begin():
        row = await session.get(BotWebhook, principal.tenant)
        if row is None:
            session.add(
                BotWebhook(
                    tenant=principal.tenant,
                    url=str(spec.url),
                    secret=spec.secret,
                    timeout_s=spec.timeout_s,
                )
            )
        else:
            row.url, row.secret, row.timeout_s = str(spec.url), spec.secret, spec.timeout_s
    return WebhookView(url=str(spec.url), timeout_s=spec.timeout_s)


@router.get("/webhook")
async def read_webhook(principal: Admin, runtime: RuntimeDep) -> WebhookView:
    async with runtime.sessions() as session:
        row = await session.get(BotWebhook, principal.tenant)
    if row is None:
        raise HTTPException(404, "no external bot: the built-in bot answers")
    return WebhookView(url=row.url, timeout_s=row.timeout_s)


@router.delete("/webhook", status_code=204)
async def delete_webhook(principal: Admin, runtime: RuntimeDep) -> Response:
    async with runtime.sessions() as session, session.begin():
        row = await session.get(BotWebhook, principal.tenant)
        if row is not None:
            await session.delete(row)
    return Response(status_code=204)


class BotReply(BaseModel):
    text: Text = Field(min_length=1, max_length=5000)


class BotEscalation(BaseModel):
    reason: Text = Field("the bot escalated", min_length=1, max_length=500)


async def _held(uow: UnitOfWork, principal: Principal, conversation_id: str) -> BotThread:
    thread = await uow.session.get(BotThread, conversation_id)
    if thread is None or thread.tenant != principal.tenant:
        raise HTTPException(404, "no conversation the bot holds")
    return thread


@router.post("/conversations/{conversation_id}/reply", status_code=202)
async def bot_reply(
    conversation_id: str,
    reply: BotReply,
    principal: BotKey,
    runtime: RuntimeDep,
    idempotency_key: commands.IdempotencyKey = None,
) -> dict[str, str]:
    """The external bot's answer, delivered on the customer's channel. Sent again with
    the same Idempotency-Key (a bot retrying after a timeout), it is not sent twice."""
    async with runtime.unit_of_work() as uow:
        if idempotency_key is not None:
            # Kept with the answer it made, in its transaction: done, or not at all.
            request = commands.keyed_id(principal, conversation_id, idempotency_key)
            if await uow.session.get(BotApplied, request) is not None:
                return {"status": "sent"}
            uow.session.add(BotApplied(event_id=request, at=utcnow()))
        thread = await _held(uow, principal, conversation_id)
        worker.add_line(thread, Sender.BOT, reply.text, utcnow())
        thread.answer_due = None
        command = ReplySent(conversation_id=conversation_id, sender=Sender.BOT, text=reply.text)
        worker.emit(uow, principal.tenant, conversation_id, [command], causation=None)
        try:
            await uow.commit()
        except IntegrityError:
            if idempotency_key is None:
                raise
            # The first try of this request, still running when the bot gave it up and
            # sent it again, committed meanwhile: it is sent.
    return {"status": "sent"}


@router.post("/conversations/{conversation_id}/escalate", status_code=202)
async def bot_escalate(
    conversation_id: str, escalation: BotEscalation, principal: BotKey, runtime: RuntimeDep
) -> dict[str, str]:
    """Hand the conversation to a person, with the transcript so far."""
    async with runtime.unit_of_work() as uow:
        thread = await _held(uow, principal, conversation_id)
        commands = await worker.hand_over(uow.session, thread, escalation.reason)
        worker.emit(uow, principal.tenant, conversation_id, commands, causation=None)
        await uow.commit()
    return {"status": "escalated"}


@router.post("/conversations/{conversation_id}/resolve", status_code=202)
async def bot_resolve(
    conversation_id: str, principal: BotKey, runtime: RuntimeDep
) -> dict[str, str]:
    """The customer is done: the conversation closes as resolved by the bot."""
    async with runtime.unit_of_work() as uow:
        thread = await _held(uow, principal, conversation_id)
        await uow.session.delete(thread)
        command = BotResolved(conversation_id=conversation_id)
        worker.emit(uow, principal.tenant, conversation_id, [command], causation=None)
        await uow.commit()
    return {"status": "resolved"}
