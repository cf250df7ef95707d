"""API keys and roles of the agents service."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.agents.app import create_app
from services.agents.auth import Role, new_key, store_key
from shared.bus.local import LocalBus
from shared.config import Settings
from shared.db.migrate import upgrade_async
from shared.http import PROBLEM_JSON
from shared.runtime import bootstrap
from tests.asgi import serve
from tests.processes import ROOT


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    settings = Settings(data_dir=tmp_path)
    await upgrade_async(settings.effective_database_url)
    runtime = bootstrap(settings, bus=LocalBus(tmp_path / "bus.sqlite3"))
    admin = new_key()
    await store_key(runtime.sessions, key=admin, tenant="acme", role=Role.ADMIN)
    other = new_key()
    await store_key(runtime.sessions, key=other, tenant="globex", role=Role.ADMIN)
    async with serve(create_app(runtime)) as client:
        yield client, {"acme": admin, "globex": other}


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


async def test_without_a_valid_key_the_answer_is_401_problem_json(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, _ = api
    for headers in ({}, bearer("or_not-a-key"), {"authorization": "Basic abc"}):
        response = await client.get("/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.headers["www-authenticate"] == "Bearer"


async def test_an_admin_creates_an_agent_key_that_knows_its_agent_and_cannot_do_admin_work(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, keys = api
    missing_agent = await client.post(
        "/v1/keys", json={"role": "agent"}, headers=bearer(keys["acme"])
    )
    created = await client.post(
        "/v1/keys",
        json={"role": "agent", "agent_id": "ana", "name": "Ana's desk"},
        headers=bearer(keys["acme"]),
    )
    agent_key = created.json()["key"]

    me = await client.get("/v1/me", headers=bearer(agent_key))
    forbidden = await client.post("/v1/keys", json={"role": "admin"}, headers=bearer(agent_key))

    assert missing_agent.status_code == 422
    assert created.status_code == 201 and agent_key.startswith("or_")
    assert me.json() == {"tenant": "acme", "role": "agent", "agent_id": "ana"}
    assert forbidden.status_code == 403
    assert "needs the role admin" in forbidden.json()["detail"]


async def test_keys_are_listed_without_secrets_and_revoked_per_tenant(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, keys = api
    created = (
        await client.post("/v1/keys", json={"role": "supervisor"}, headers=bearer(keys["acme"]))
    ).json()

    listed = (await client.get("/v1/keys", headers=bearer(keys["acme"]))).json()
    foreign = await client.delete(f"/v1/keys/{created['key_id']}", headers=bearer(keys["globex"]))
    revoked = await client.delete(f"/v1/keys/{created['key_id']}", headers=bearer(keys["acme"]))
    after = await client.get("/v1/me", headers=bearer(created["key"]))

    assert [item["role"] for item in listed["items"]] == ["admin", "supervisor"]
    assert all("key" not in item for item in listed["items"]) and listed["next"] is None
    assert (foreign.status_code, revoked.status_code, after.status_code) == (404, 204, 401)


def test_the_cli_prints_a_key_alone_on_its_last_line_and_stores_only_its_hash(
    tmp_path: Path,
) -> None:
    env = {"OMNIROUTE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "omniroute.cli",
            "keys",
            "create",
            "--role",
            "agent",
            "--agent",
            "ana",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = done.stdout.strip().splitlines()[-1]
    assert key.startswith("or_") and " " not in key
    with sqlite3.connect(tmp_path / "omniroute.sqlite3") as db:
        rows = db.execute("SELECT key_hash, tenant, role, agent_id FROM api_keys").fetchall()
    assert len(rows) == 1 and rows[0][1:] == ("demo", "agent", "ana")
    assert key not in repr(rows)
