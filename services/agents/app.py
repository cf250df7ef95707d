"""The agents service's HTTP app."""

from fastapi import APIRouter, FastAPI

from shared.runtime import Runtime, relay_outbox, service_app

# The /v1/ API joins this list, one router per resource.
ROUTERS: list[APIRouter] = []


def create_app(runtime: Runtime) -> FastAPI:
    return service_app("omniroute agents", runtime, routers=ROUTERS, workers=[relay_outbox])
