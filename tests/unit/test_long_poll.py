"""Long polls wake for their own subject only: one agent's new offer does not make every
other desk in the process query the database again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from shared.bus.local import LocalBus
from shared.config import Settings
from shared.runtime import Runtime, bootstrap


def runtime_in(tmp_path: Path) -> Runtime:
    settings = Settings.model_validate({"data_dir": tmp_path})
    return bootstrap(settings, bus=LocalBus(tmp_path / "bus.sqlite3"))


async def test_a_poll_answers_when_its_subject_changes_and_only_then(tmp_path: Path) -> None:
    runtime = runtime_in(tmp_path)
    offers: dict[str, list[str]] = {"ana": [], "ben": []}
    looks = {"ana": 0, "ben": 0}

    def poll(agent: str) -> asyncio.Task[list[str]]:
        async def look() -> list[str]:
            looks[agent] += 1
            return list(offers[agent])

        return asyncio.create_task(runtime.long_poll(5, look, subject=agent))

    ana, ben = poll("ana"), poll("ben")
    await asyncio.sleep(0.05)
    offers["ana"].append("o1")
    started = time.monotonic()
    runtime.notify(["ana", "someone-else"])

    assert await ana == ["o1"]
    assert time.monotonic() - started < 0.5  # at once, not at the one-second look
    assert looks == {"ana": 2, "ben": 1}  # ben's poll did not look again
    offers["ben"].append("o2")
    runtime.notify(["ben"])
    assert await ben == ["o2"]
    assert runtime.waiting == {}  # finished polls leave nothing behind
    await runtime.close_database()


async def test_a_poll_without_news_answers_empty_when_its_wait_is_over(tmp_path: Path) -> None:
    runtime = runtime_in(tmp_path)

    async def nothing() -> list[str]:
        return []

    started = time.monotonic()
    assert await runtime.long_poll(0.3, nothing, subject="ana") == []
    assert 0.3 <= time.monotonic() - started < 1.0
    await runtime.close_database()
