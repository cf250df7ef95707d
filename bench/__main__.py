"""`make bench`: every benchmark, one after the other, and bench/results.md from their output.

    bash deploy/local/with-deps.sh .venv/bin/python -m bench

Each benchmark prints its own table with the ratios against the baseline it measured
in the same run; this shows them as they come and writes them, with the machine they
ran on, to bench/results.md.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS = (
    ("Routing core: decisions per second as the desk grows", "bench.core_decisions"),
    ("Webhook ingest: channels against a bare FastAPI endpoint", "bench.webhook_ack"),
    ("Router service against a raw aiokafka consume-and-produce loop", "bench.router_service"),
    ("End to end: webhook ack to the offer seen by a long-polling agent", "bench.latency"),
)
RESULTS = Path(__file__).parent / "results.md"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory_kb / 1024**2:.0f} GB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def run(module: str) -> str:
    """The benchmark's output, shown live and kept."""
    output = []
    with subprocess.Popen(  # noqa: S603 (our own modules, by name)
        [sys.executable, "-m", module], stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            output.append(line)
    if process.returncode != 0:
        raise SystemExit(f"{module} failed with exit code {process.returncode}")
    return "".join(output)


def main() -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 (git from PATH, if there)
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    sections = []
    for title, module in BENCHMARKS:
        print(f"\n== {title} ({module})", flush=True)
        started = time.monotonic()
        output = run(module)
        sections.append(
            f"## {title}\n\n`python -m {module}` ({time.monotonic() - started:.0f} s)\n\n"
            f"```\n{output}```\n"
        )
    RESULTS.write_text(
        "# Benchmark results\n\n"
        f"Made by `make bench` on {time.strftime('%Y-%m-%d')} at commit {commit or 'unknown'}.\n"
        f"Machine: {machine()}.\n\n" + "\n".join(sections)
    )
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
