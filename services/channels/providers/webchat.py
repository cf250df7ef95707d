"""Web chat for the embeddable widget: /chat/v1/..., /chat/widget.js and /chat/demo.

A visitor opens a session and gets a bearer token (only its hash is stored); the
widget sends messages and long-polls the transcript, where replies from agents,
the bot and the desk appear as the delivery worker stores them. The thread key of
a chat conversation is its session id.

A visitor who ends the chat (`POST .../leave`) or whose widget stops polling for
OMNIROUTE_CHAT_IDLE_S has left: `CustomerLeft` goes to the router, which takes a
conversation still waiting out of its queue (abandoned) and leaves any other as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

import httpx
import structlog
from fastapi import APIRouter, Depends, Header, HTTPException, Query
from fastapi.responses import FileResponse
from prometheus_client import Counter
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, select, update

from services.channels.outbound import delivery_id
from services.channels.webhooks import accept, inbound_record
from shared.db.models import ChatMessage, ChatSession
from shared.events import (
    INBOUND,
    Channel,
    Customer,
    CustomerLeft,
    DeliverMessage,
    Envelope,
    MessageReceived,
    new_event_id,
    utcnow,
)
from shared.runtime import Runtime, RuntimeDep
from shared.stopping import sleep_unless
from shared.types import Text

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/chat", tags=["web chat"])

PROVIDER = "webchat"
MAX_WAIT_S = 30
DEPARTURES = Counter(
    "omniroute_chat_departures_total",
    "Web chat visitors reported gone: ended the chat, or the chat went quiet.",
    ["reason"],
)
STATIC = Path(__file__).resolve().parents[1] / "static"


class SessionRequest(BaseModel):
    name: Text | None = Field(None, max_length=200)
    email: Text | None = Field(None, max_length=320)
    language: Literal["es", "en"] | None = None
    widget_key: str | None = Field(None, description="Which desk the widget belongs to.")


class SessionCreated(BaseModel):
    session_id: str
    token: str


class ChatText(BaseModel):
    text: Text = Field(min_length=1, max_length=5000)


class ChatLine(BaseModel):
    id: str
    author: Literal["customer", "agent", "bot", "system"]
    text: str
    at: str


class Transcript(BaseModel):
    """Place in line and the expected wait come from the agents service, which keeps the
    queues' statistics: GET /v1/public/chat/{session_id}/wait."""

    messages: list[ChatLine]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def visitor_session(
    session_id: str, runtime: RuntimeDep, authorization: Annotated[str, Header()] = ""
) -> ChatSession:
    """The session the bearer token opens; 401 alike for a wrong token or session."""
    token = authorization.removeprefix("Bearer ")
    async with runtime.reads() as db:
        session = await db.get(ChatSession, session_id)
    if session is None or not hmac.compare_digest(session.token_hash, _hash(token)):
        raise HTTPException(401, "this token does not open this chat session")
    return session


VisitorSession = Annotated[ChatSession, Depends(visitor_session)]


@router.post("/v1/sessions", status_code=201)
async def open_session(request: SessionRequest, runtime: RuntimeDep) -> SessionCreated:
    settings = runtime.settings
    tenant = settings.chat_widgets.get(request.widget_key or "")
    if tenant is None and runtime.embedded and not request.widget_key:
        tenant = settings.demo_tenant
    if tenant is None:
        raise HTTPException(403, "unknown widget key")
    session_id, token = new_event_id(), secrets.token_urlsafe(32)
    async with runtime.sessions() as db, db.begin():
        db.add(
            ChatSession(
                session_id=session_id,
                tenant=tenant,
                token_hash=_hash(token),
                name=request.name,
                email=request.email,
                language=request.language,
                created_at=utcnow(),
            )
        )
    return SessionCreated(session_id=session_id, token=token)


@router.post("/v1/sessions/{session_id}/messages", status_code=202)
async def send_message(
    body: ChatText, session: VisitorSession, runtime: RuntimeDep
) -> dict[str, str]:
    message_id, now = new_event_id(), utcnow()
    message = MessageReceived(
        channel=Channel.CHAT,
        provider=PROVIDER,
        provider_message_id=message_id,
        thread_key=session.session_id,
        customer=Customer(id=session.session_id, name=session.name, email=session.email),
        text=body.text,
        language_hint=session.language,
    )
    line = ChatMessage(
        message_id=message_id,
        session_id=session.session_id,
        author="customer",
        text=body.text,
        at=now,
    )
    await accept(runtime, session.tenant, [message], also=lambda db: db.add(line))
    await _seen(runtime, session, wrote=True)
    runtime.notify([_subject(session.session_id)])
    return {"id": message_id}


@router.post("/v1/sessions/{session_id}/leave", status_code=202)
async def leave(session: VisitorSession, runtime: RuntimeDep) -> dict[str, str]:
    """The visitor ended the chat: a conversation still waiting for an agent is abandoned.
    Writing again later opens a new one."""
    try:
        await _leave(runtime, ChatSession.session_id == session.session_id, "ended the chat")
    except Exception as error:  # nothing was marked: the widget's retry goes through
        log.warning("webchat.leave_failed", error=repr(error))
        raise HTTPException(503, "could not end the chat; please retry") from error
    return {"status": "left"}


@router.get("/v1/sessions/{session_id}/messages")
async def read_messages(
    session: VisitorSession,
    runtime: RuntimeDep,
    after: str | None = None,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S)] = 0,
) -> Transcript:
    """The transcript after message `after`; with `wait`, answers as soon as there is one."""
    await _seen(runtime, session, wrote=False)
    lines = await runtime.long_poll(
        wait,
        lambda: _lines(runtime, session.session_id, after),
        subject=_subject(session.session_id),
    )
    return Transcript(messages=lines)


async def _seen(runtime: Runtime, session: ChatSession, *, wrote: bool) -> None:
    """The visitor is here: a message (which also brings back one judged gone), or a poll
    of a visitor who has written (before that there is no conversation to leave)."""
    now = utcnow()
    # Polls refresh it a few times per idle time, not on each: a write per poll would
    # queue every widget behind SQLite's one writer.
    fresh_for = timedelta(seconds=runtime.settings.chat_idle_s / 4)
    if not wrote and (session.last_seen_at is None or now - session.last_seen_at < fresh_for):
        return
    seen = {"last_seen_at": now, "left_at": None} if wrote else {"last_seen_at": now}
    async with runtime.sessions() as db, db.begin():
        await db.execute(
            update(ChatSession).where(ChatSession.session_id == session.session_id).values(seen)
        )


async def notice_departures(runtime: Runtime) -> None:
    """Worker: visitors whose widget stopped polling have left."""
    idle = timedelta(seconds=runtime.settings.chat_idle_s)
    # Noticed within a quarter of the idle time after it, looking at most every 5 s.
    every_s = min(5.0, idle.total_seconds() / 4)
    started = utcnow()
    while not runtime.stop.is_set():
        await sleep_unless(runtime.stop, every_s)
        quiet_since = utcnow() - idle
        if quiet_since < started:
            # While this service was down the widgets could not poll it: they are judged
            # only by a service that has been up for the idle time.
            continue
        try:
            await _leave(runtime, ChatSession.last_seen_at < quiet_since, "the chat went quiet")
        except Exception as error:  # the bus or the database: the next look tries again
            log.warning("webchat.departures_failed", error=repr(error))


async def _leave(runtime: Runtime, which: ColumnElement[bool], reason: str) -> int:
    """Mark the present visitors among `which` gone and tell the router, in one
    transaction committed once the bus has the events: a visitor is reported once, even
    with several channels services looking."""
    present = ChatSession.left_at.is_(None) & ChatSession.last_seen_at.is_not(None) & which
    async with runtime.reads() as db:  # the usual answer, without a write transaction
        if await db.scalar(select(ChatSession.session_id).where(present).limit(1)) is None:
            return 0
    async with runtime.sessions() as db, db.begin():
        gone = (
            await db.execute(
                update(ChatSession)
                .where(present)
                .values(left_at=utcnow())
                .returning(ChatSession.session_id, ChatSession.tenant)
            )
        ).all()
        left = [
            (
                tenant,
                CustomerLeft(
                    channel=Channel.CHAT, provider=PROVIDER, thread_key=sid, reason=reason
                ),
            )
            for sid, tenant in gone
        ]
        await runtime.bus.publish_many(
            [(INBOUND, tenant, inbound_record(event, tenant)) for tenant, event in left]
        )
    DEPARTURES.labels(reason).inc(len(gone))
    return len(gone)


def _subject(session_id: str) -> str:
    """What the widget's transcript long poll waits on."""
    return f"chat:{session_id}"


async def _lines(runtime: Runtime, session_id: str, after: str | None) -> list[ChatLine]:
    async with runtime.reads() as db:
        query = select(ChatMessage).where(ChatMessage.session_id == session_id)
        if after:
            cursor = await db.scalar(select(ChatMessage.seq).where(ChatMessage.message_id == after))
            query = query.where(ChatMessage.seq > (cursor or 0))
        rows = (await db.scalars(query.order_by(ChatMessage.seq).limit(200))).all()
    return [
        ChatLine(id=r.message_id, author=r.author, text=r.text, at=r.at.isoformat()) for r in rows
    ]


async def send(
    client: httpx.AsyncClient, runtime: Runtime, envelope: Envelope, message: DeliverMessage
) -> httpx.Response:
    """Delivery to a web chat: the line joins the transcript the widget long-polls."""
    line_id = delivery_id(envelope)
    async with runtime.sessions() as db, db.begin():
        exists = await db.scalar(select(ChatMessage.seq).where(ChatMessage.message_id == line_id))
        if exists is None:  # a message delivered again is stored once
            db.add(
                ChatMessage(
                    message_id=line_id,
                    session_id=message.thread_key,
                    author=message.author,
                    text=message.text,
                    at=envelope.at,
                )
            )
    runtime.notify([_subject(message.thread_key)])
    return httpx.Response(200)  # the delivery worker's success, as a provider would answer


@router.get("/widget.js", include_in_schema=False)
async def widget() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript")


@router.get("/demo", include_in_schema=False)
async def demo() -> FileResponse:
    return FileResponse(STATIC / "demo.html", media_type="text/html")
