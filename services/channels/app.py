"""The channels service's HTTP app."""

from fastapi import APIRouter, FastAPI

from shared.runtime import Runtime, service_app

# Provider webhooks and the web chat API join this list, one router per provider.
ROUTERS: list[APIRouter] = []


def create_app(runtime: Runtime) -> FastAPI:
    return service_app("omniroute channels", runtime, routers=ROUTERS)
