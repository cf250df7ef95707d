"""`omniroute run`'s app in-process for end-to-end tests: the demo tenant, keys of the
roles a test asks for, and the helpers they share."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from omniroute.embedded import create_app, prepare
from services.agents.auth import Role, new_key, store_key
from shared.config import Settings
from shared.runtime import bootstrap
from tests.asgi import relayed, serve

Headers = dict[str, str]


@contextlib.asynccontextmanager
async def demo_desk(
    tmp_path: Path, keys: Mapping[str, tuple[Role, str | None]], **settings_: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Headers]]]:
    """The app running with the demo tenant, its configuration already on the bus, and
    an Authorization header per name in `keys` (name -> role and agent); `settings_`
    changes settings."""
    settings = Settings(data_dir=tmp_path, **settings_)
    await prepare(settings)
    runtime = bootstrap(settings, embedded=True)
    headers = {}
    for name, (role, agent_id) in keys.items():
        key = new_key()
        await store_key(runtime.sessions, key=key, tenant="demo", role=role, agent_id=agent_id)
        headers[name] = {"authorization": f"Bearer {key}"}
    async with serve(create_app(runtime)) as client:
        await runtime.connected.wait()
        await relayed(runtime)
        yield client, headers


async def conversation_of_thread(
    client: httpx.AsyncClient, key: Headers, thread: str, state: str
) -> Any:
    """The conversation of a chat thread once it is in `state`, in detail."""
    found: Any = None
    for _ in range(300):
        page = await client.get("/v1/conversations", params={"thread": thread}, headers=key)
        found = next(iter(page.json()["items"]), None)
        if found and found["state"] == state:
            return (await client.get(f"/v1/conversations/{found['id']}", headers=key)).json()
        await asyncio.sleep(0.05)
    raise AssertionError(f"the conversation never became {state}: {found}")
