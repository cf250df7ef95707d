"""`omniroute run`: the whole system in one process, as someone trying it on a laptop."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.processes import OmnirouteProcess


def rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(query).fetchall()


def wait_for(condition: Callable[[], bool], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_run_comes_up_ready_and_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    env = {"OMNIROUTE_DATA_DIR": str(tmp_path / "data")}
    bus_file, db_file = tmp_path / "data" / "bus.sqlite3", tmp_path / "data" / "omniroute.sqlite3"

    first = OmnirouteProcess("run", env, tmp_path / "first.log")
    try:
        first.wait_until_ready()
        assert first.get("/readyz").json()["checks"] == {"bus": "ok", "database": "ok"}
        assert "demo tenant 'demo' created" in first.output()
        assert f"curl -s {first.base_url}/readyz" in first.output()
        wait_for(lambda: "omniroute_router_decisions_total 7.0" in first.get("/metrics").text)
        [key] = re.findall(r"admin API key \(shown once, keep it\): (\S+)", first.output())
        me = httpx.get(first.base_url + "/v1/me", headers={"authorization": f"Bearer {key}"})
        assert me.json() == {"tenant": "demo", "role": "admin", "agent_id": None}
        assert first.stop(signal.SIGINT) == 0  # Ctrl-C
    finally:
        first.kill()
    records = rows(bus_file, "SELECT seq, topic, key FROM records ORDER BY seq")
    # 3 queues, 3 agents and the routing rules of the demo tenant, relayed from the outbox.
    assert [topic for _, topic, _ in records] == ["cc.config.v1"] * 7
    assert rows(db_file, "SELECT id FROM tenants") == [("demo",)]
    assert rows(db_file, "SELECT count(*) FROM outbox") == [(0,)]
    # The router keeps what it learnt of the demo desk: its state survives restarts too.
    [(tenant, state)] = rows(db_file, "SELECT tenant, state FROM router_tenants")
    assert tenant == "demo"
    assert isinstance(state, bytes)
    assert [agent["agent_id"] for agent in json.loads(state)["agents"]] == ["ana", "ben", "chen"]

    second = OmnirouteProcess("run", env, tmp_path / "second.log")
    try:
        second.wait_until_ready()
        assert "demo tenant 'demo' (already there)" in second.output()
        assert "admin API key" not in second.output()
        assert second.stop(signal.SIGTERM) == 0
    finally:
        second.kill()
    assert rows(bus_file, "SELECT seq, topic, key FROM records ORDER BY seq") == records
    assert rows(db_file, "SELECT id FROM tenants") == [("demo",)]
    # The router read the configuration once and committed it: nothing left to re-read.
    assert rows(bus_file, "SELECT grp, topic, next_seq FROM group_offsets") == [
        ("router", "cc.config.v1", 8)
    ]


def test_the_bootstrap_admin_key_setting_is_the_demo_admins_key(tmp_path: Path) -> None:
    key = "or_bootstrap-key-for-tests-0123456789"
    env = {"OMNIROUTE_DATA_DIR": str(tmp_path), "OMNIROUTE_BOOTSTRAP_ADMIN_KEY": key}
    run = OmnirouteProcess("run", env, tmp_path / "run.log")
    try:
        run.wait_until_ready()
        me = httpx.get(run.base_url + "/v1/me", headers={"authorization": f"Bearer {key}"})
        assert me.json() == {"tenant": "demo", "role": "admin", "agent_id": None}
        assert key not in run.output() and "admin API key" not in run.output()
        assert run.stop() == 0
    finally:
        run.kill()
