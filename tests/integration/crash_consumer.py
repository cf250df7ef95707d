"""A consumer process for the crash test: handles records, then hangs or commits.

    python -m tests.integration.crash_consumer (local PATH | kafka BOOTSTRAP) TOPIC GROUP OUT MODE

It appends each handled record's value to OUT and prints `handled`. In mode
`hang` it then waits to be killed before committing; in mode `commit` it commits
and exits; with nothing to handle within 5 s it prints `idle` and exits.
"""

import asyncio
import os
import sys
from pathlib import Path

from shared.bus.base import Bus
from shared.bus.kafka import KafkaBus
from shared.bus.local import LocalBus


async def main(kind: str, where: str, topic: str, group: str, out: Path, mode: str) -> None:
    bus: Bus = (
        LocalBus(Path(where))
        if kind == "local"
        else KafkaBus(where, topics=[topic], partitions=3, session_timeout_ms=6000)
    )
    await bus.start()
    try:
        await handle(bus, topic, group, out, mode)
    finally:
        await bus.close()


async def handle(bus: Bus, topic: str, group: str, out: Path, mode: str) -> None:
    async with bus.subscribe([topic], group) as subscription:
        records = await subscription.fetch(timeout_s=5)
        if not records:
            print("idle", flush=True)
            return
        with out.open("ab") as handled:
            for record in records:
                handled.write(record.value + b"\n")
            handled.flush()
            os.fsync(handled.fileno())
        print("handled", flush=True)
        if mode == "hang":
            await asyncio.Event().wait()
        await subscription.commit(records)
        print("committed", flush=True)


if __name__ == "__main__":
    kind, where, topic, group, out, mode = sys.argv[1:]
    asyncio.run(main(kind, where, topic, group, Path(out), mode))
