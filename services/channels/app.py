"""The channels service's HTTP app."""

from fastapi import APIRouter, FastAPI

from services.channels.providers import meta, telegram, twitter
from shared.runtime import Runtime, service_app

# One router per provider.
ROUTERS: list[APIRouter] = [meta.router, telegram.router, twitter.router]


def create_app(runtime: Runtime) -> FastAPI:
    return service_app("omniroute channels", runtime, routers=ROUTERS)
