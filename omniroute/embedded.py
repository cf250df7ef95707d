"""`omniroute run`: every service in one process on one HTTP port."""

from collections.abc import Callable

from fastapi import FastAPI

from services.agents import app as agents
from services.agents.demo import ensure_demo_tenant
from services.channels import app as channels
from services.router.service import RouterService
from shared.config import Settings
from shared.db import create_engine, session_factory
from shared.db.migrate import upgrade_async
from shared.runtime import Runtime, service_app


async def prepare(settings: Settings) -> bool:
    """Migrate the database and create the demo tenant; True on the very first start."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade_async(settings.effective_database_url)
    engine = create_engine(settings.effective_database_url)
    try:
        return await ensure_demo_tenant(session_factory(engine), settings.demo_tenant)
    finally:
        await engine.dispose()


def create_app(runtime: Runtime, *, on_ready: Callable[[], None] | None = None) -> FastAPI:
    return service_app(
        "omniroute",
        runtime,
        routers=[*channels.ROUTERS, *agents.ROUTERS],
        workers=[*RouterService(runtime).workers(), channels.deliver_outbound],
        on_ready=on_ready,
    )
