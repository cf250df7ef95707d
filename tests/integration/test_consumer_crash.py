"""A consumer killed with SIGKILL between handling and commit sees the record again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.bus.base import Bus
from shared.bus.kafka import KafkaBus
from shared.bus.local import LocalBus
from tests.conftest import unique

ROOT = Path(__file__).resolve().parents[2]


def consumer(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.crash_consumer", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> list[str]:
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    return output.split()


@pytest.mark.parametrize("kind", ["local", "kafka"])
async def test_sigkill_before_commit_redelivers_after_restart(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    topic = unique("test.crash")
    where = str(tmp_path / "bus.sqlite3")
    if kind == "kafka":
        where = request.getfixturevalue("kafka_bootstrap")
    bus: Bus = LocalBus(Path(where)) if kind == "local" else KafkaBus(where, topics=[topic])
    await bus.start()
    await bus.publish(topic, "acme", b"order-42")
    await bus.close()
    handled = tmp_path / "handled.txt"
    args = (kind, where, topic, "crash-group", str(handled))

    first = consumer(*args, "hang")
    assert first.stdout is not None
    assert first.stdout.readline().strip() == "handled"
    first.kill()  # SIGKILL: no commit, no goodbye to the group
    first.wait(timeout=30)
    first.stdout.close()

    assert finish(consumer(*args, "commit")) == ["handled", "committed"]
    assert finish(consumer(*args, "commit")) == ["idle"]
    assert handled.read_bytes().splitlines() == [b"order-42", b"order-42"]
