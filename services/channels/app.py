"""The channels service's HTTP app."""

from fastapi import APIRouter, FastAPI

from services.channels import email
from services.channels.outbound import Send, delivery_worker
from services.channels.providers import (
    mailgun,
    meta,
    mime,
    postmark,
    sendgrid,
    telegram,
    twitter,
    webchat,
)
from shared.runtime import Runtime, service_app

# One router per provider.
ROUTERS: list[APIRouter] = [
    meta.router,
    telegram.router,
    twitter.router,
    mailgun.router,
    postmark.router,
    sendgrid.router,
    mime.router,
    webchat.router,
]


# One sender per provider that can be answered.
SENDERS: dict[str, Send] = {
    telegram.PROVIDER: telegram.send,
    webchat.PROVIDER: webchat.send,
    meta.PROVIDER: meta.send,
    twitter.PROVIDER: twitter.send,
    **dict.fromkeys(
        (mailgun.PROVIDER, postmark.PROVIDER, sendgrid.PROVIDER, mime.PROVIDER), email.send
    ),
}
deliver_outbound = delivery_worker(SENDERS)
WORKERS = [deliver_outbound, webchat.notice_departures]


def create_app(runtime: Runtime) -> FastAPI:
    return service_app("omniroute channels", runtime, routers=ROUTERS, workers=WORKERS)
