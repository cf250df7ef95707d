"""Talk to an app in-process, with its lifespan (startup and shutdown) running."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from shared.db.models import OutboxRecord
from shared.runtime import Runtime


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


async def relayed(runtime: Runtime, timeout_s: float = 20) -> None:
    """Wait until the outbox is empty: what the app queued at start (the demo tenant's
    configuration) is on the bus, ahead of anything a test sends next."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        async with runtime.sessions() as session:
            if not await session.scalar(select(func.count()).select_from(OutboxRecord)):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox was not relayed")
