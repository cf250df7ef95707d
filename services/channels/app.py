"""The channels service's HTTP app."""

from fastapi import APIRouter, FastAPI

from services.channels.providers import mailgun, meta, mime, postmark, sendgrid, telegram, twitter
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
]


def create_app(runtime: Runtime) -> FastAPI:
    return service_app("omniroute channels", runtime, routers=ROUTERS)
