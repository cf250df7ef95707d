"""A fake provider API served over real HTTP on 127.0.0.1, recording what it was sent.

`replies` scripts the answers: each request takes the next (status, headers); when
they run out, 200.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.processes import free_port


@dataclass
class FakeProvider:
    base_url: str
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    replies: list[tuple[int, dict[str, str]]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def fake_provider() -> AsyncIterator[FakeProvider]:
    port = free_port()
    fake = FakeProvider(f"http://127.0.0.1:{port}")
    app = FastAPI()

    @app.post("/{path:path}")
    async def record(path: str, request: Request) -> JSONResponse:
        fake.calls.append((path, await request.json()))
        status, headers = fake.replies.pop(0) if fake.replies else (200, {})
        return JSONResponse({"ok": status == 200}, status_code=status, headers=headers)

    async with on_port(app, port):
        yield fake


@contextlib.asynccontextmanager
async def on_port(app: FastAPI, port: int) -> AsyncIterator[None]:
    """Serve the app over real HTTP on 127.0.0.1:port while the block runs."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task
