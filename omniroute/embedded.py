"""`omniroute run`: every service in one process on one HTTP port."""

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI

from services.agents import app as agents
from services.agents.auth import Role, ensure_key, new_key, store_key
from services.agents.demo import ensure_demo_tenant
from services.channels import app as channels
from services.router.service import RouterService
from shared.config import Settings
from shared.db import create_engine, session_factory
from shared.db.migrate import upgrade_async
from shared.runtime import Runtime, service_app


@dataclass(frozen=True)
class Prepared:
    created: bool  # the demo tenant was created by this start
    admin_key: str | None  # a generated admin key, to print this once


async def prepare(settings: Settings) -> Prepared:
    """Migrate the database, create the demo tenant and make sure it has an admin key."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade_async(settings.effective_database_url)
    engine = create_engine(settings.effective_database_url)
    sessions = session_factory(engine)
    try:
        created = await ensure_demo_tenant(sessions, settings.demo_tenant)
        given = settings.bootstrap_admin_key
        if given is not None:
            await ensure_key(sessions, key=given.get_secret_value(), tenant=settings.demo_tenant)
            return Prepared(created, None)
        if created:
            key = new_key()
            await store_key(sessions, key=key, tenant=settings.demo_tenant, role=Role.ADMIN)
            return Prepared(created, key)
        return Prepared(created, None)
    finally:
        await engine.dispose()


def create_app(runtime: Runtime, *, on_ready: Callable[[], None] | None = None) -> FastAPI:
    return service_app(
        "omniroute",
        runtime,
        routers=[*channels.ROUTERS, *agents.ROUTERS],
        workers=[*RouterService(runtime).workers(), *channels.WORKERS, *agents.WORKERS],
        on_ready=on_ready,
    )
