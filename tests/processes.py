"""Run omniroute commands as real processes in tests, the way an operator would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class OmnirouteProcess:
    """`omniroute COMMAND` with its own port and environment; output goes to a log file."""

    def __init__(
        self,
        command: str,
        env: dict[str, str],
        log: Path,
        args: tuple[str, ...] = (),
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        environment = {**os.environ, **env, "OMNIROUTE_PORT": str(self.port)}
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "omniroute.cli", command, *args],
                cwd=ROOT,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.base_url + path, timeout=5)

    def wait_until_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"exited with {self.process.returncode}:\n{self.output()}")
            try:
                if self.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"not ready within {timeout_s} s:\n{self.output()}")

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout_s: float = 30) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=timeout_s)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def run_cli(args: list[str], env: dict[str, str]) -> str:
    """An `omniroute` command that runs to its end; returns what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "omniroute.cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def migrate(database_url: str) -> None:
    """`omniroute migrate`, as an operator runs it before starting the services."""
    subprocess.run(
        [sys.executable, "-m", "omniroute.cli", "migrate"],
        cwd=ROOT,
        env={"OMNIROUTE_DATABASE_URL": database_url, "PATH": os.environ.get("PATH", "")},
        check=True,
        capture_output=True,
    )
