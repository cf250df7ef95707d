"""LocalBus never loses, reorders or skips records, wherever a consumer stops."""

import asyncio
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.bus.local import LocalBus

records = st.lists(st.tuples(st.sampled_from("abc"), st.binary(max_size=20)), max_size=30)


@settings(max_examples=40, deadline=None)
@given(records=records, data=st.data())
def test_a_restarted_consumer_gets_exactly_what_was_not_committed(
    records: list[tuple[str, bytes]], data: st.DataObject
) -> None:
    committed = data.draw(st.integers(0, len(records)), label="committed")
    handled = data.draw(st.integers(committed, len(records)), label="handled before crash")

    async def scenario(path: Path) -> list[tuple[str | None, bytes]]:
        bus = LocalBus(path)
        await bus.start()
        for key, value in records:
            await bus.publish("t", key, value)
        async with bus.subscribe(["t"], "g") as subscription:
            first = await subscription.fetch(max_records=handled, timeout_s=0) if handled else []
            await subscription.commit(first[:committed])
        await bus.close()

        restarted = LocalBus(path)
        await restarted.start()
        async with restarted.subscribe(["t"], "g") as subscription:
            rest = await subscription.fetch(max_records=1000, timeout_s=0)
        await restarted.close()
        return [(record.key, record.value) for record in rest]

    with tempfile.TemporaryDirectory() as directory:
        rest = asyncio.run(scenario(Path(directory) / "bus.sqlite3"))
    assert rest == records[committed:]
