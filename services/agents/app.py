"""The agents service's HTTP app."""

from fastapi import APIRouter, FastAPI

from services.agents import metrics, readmodel
from services.agents.api import (
    bot,
    configuration,
    conversations,
    cx,
    desk,
    keys,
    pages,
    waits,
)
from services.agents.bot import worker
from shared.runtime import Runtime, relay_outbox, service_app

# The /v1/ API, one router per resource.
ROUTERS: list[APIRouter] = [
    keys.router,
    configuration.router,
    desk.router,
    conversations.router,
    waits.router,
    bot.router,
    cx.router,
    pages.router,
]


WORKERS = [readmodel.project, metrics.refresh, worker.converse, worker.deadlines]


def create_app(runtime: Runtime) -> FastAPI:
    return service_app(
        "omniroute agents",
        runtime,
        routers=ROUTERS,
        workers=[relay_outbox, *WORKERS],
    )
