"""One contract, two buses: LocalBus (SQLite) and KafkaBus (the real Apache Kafka).

The records here are opaque bytes: the bus does not read them.
"""

from __future__ import annotations

import time

import pytest

from shared.bus.base import Bus, Record, RecordTooLarge, Subscription
from shared.events import INBOUND, ROUTING
from tests.conftest import BusFactory


async def take(subscription: Subscription, count: int, *, timeout_s: float = 30) -> list[Record]:
    """Fetch until `count` records arrived; fail if they do not within the timeout."""
    records: list[Record] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        records += await subscription.fetch(max_records=count - len(records), timeout_s=0.5)
    assert len(records) == count, f"got {len(records)} of {count} records"
    return records


async def nothing_more(subscription: Subscription, *, wait_s: float = 2.0) -> None:
    assert await subscription.fetch(timeout_s=wait_s) == []


async def publish_many(bus: Bus, topic: str, values: list[tuple[str, str]]) -> None:
    for key, value in values:
        await bus.publish(topic, key, value.encode())


async def test_a_published_record_reaches_a_new_consumer(make_bus: BusFactory) -> None:
    bus = await make_bus()
    await bus.publish(INBOUND, "acme", b'{"hello": "world"}')

    async with bus.subscribe([INBOUND], "g1") as subscription:
        [record] = await take(subscription, 1)

    assert (record.topic, record.key, record.value) == (INBOUND, "acme", b'{"hello": "world"}')


async def test_records_of_one_key_arrive_in_publish_order(make_bus: BusFactory) -> None:
    bus = await make_bus()
    sent = [(f"tenant-{i % 4}", f"{i % 4}:{i}") for i in range(60)]
    await publish_many(bus, INBOUND, sent)

    async with bus.subscribe([INBOUND], "g1") as subscription:
        received = await take(subscription, len(sent))

    for key in {key for key, _ in sent}:
        expected = [value for k, value in sent if k == key]
        assert [r.value.decode() for r in received if r.key == key] == expected


async def test_a_record_handled_but_not_committed_comes_again_after_restart(
    make_bus: BusFactory,
) -> None:
    bus = await make_bus()
    await bus.publish(INBOUND, "acme", b"first")
    async with bus.subscribe([INBOUND], "g1") as subscription:
        handled = await take(subscription, 1)
        # the consumer stops here, before commit
    await bus.close()

    restarted = await make_bus()
    async with restarted.subscribe([INBOUND], "g1") as subscription:
        again = await take(subscription, 1)

    assert again[0].value == handled[0].value == b"first"


async def test_a_group_resumes_from_its_committed_offset(make_bus: BusFactory) -> None:
    bus = await make_bus()
    await publish_many(bus, INBOUND, [("acme", f"old-{i}") for i in range(5)])
    async with bus.subscribe([INBOUND], "g1") as subscription:
        await subscription.commit(await take(subscription, 5))
    await publish_many(bus, INBOUND, [("acme", f"new-{i}") for i in range(3)])

    async with bus.subscribe([INBOUND], "g1") as subscription:
        resumed = await take(subscription, 3)
        await nothing_more(subscription)

    assert [r.value for r in resumed] == [b"new-0", b"new-1", b"new-2"]


async def test_two_groups_read_independently(make_bus: BusFactory) -> None:
    bus = await make_bus()
    await publish_many(bus, INBOUND, [("acme", f"m{i}") for i in range(4)])
    async with bus.subscribe([INBOUND], "router") as router:
        await router.commit(await take(router, 4))

    async with bus.subscribe([INBOUND], "agents") as agents:
        seen = await take(agents, 4)

    assert [r.value for r in seen] == [b"m0", b"m1", b"m2", b"m3"]


async def test_one_subscription_reads_several_topics(make_bus: BusFactory) -> None:
    bus = await make_bus()
    await bus.publish(INBOUND, "acme", b"from-a")
    await bus.publish(ROUTING, "acme", b"from-b")

    async with bus.subscribe([INBOUND, ROUTING], "g1") as subscription:
        records = await take(subscription, 2)

    assert {(r.topic, r.value) for r in records} == {
        (INBOUND, b"from-a"),
        (ROUTING, b"from-b"),
    }


async def test_an_oversized_record_is_refused_and_not_published(make_bus: BusFactory) -> None:
    bus = await make_bus()
    with pytest.raises(RecordTooLarge, match=r"more than the limit of 65536 bytes"):
        await bus.publish(INBOUND, "acme", b"x" * (64 * 1024 + 1))
    await bus.publish(INBOUND, "acme", b"small")

    async with bus.subscribe([INBOUND], "g1") as subscription:
        [record] = await take(subscription, 1)
        await nothing_more(subscription, wait_s=1)
    assert record.value == b"small"


async def test_many_records_with_one_oversized_are_refused_together(make_bus: BusFactory) -> None:
    bus = await make_bus()
    many = [(INBOUND, "acme", b"m" * 40_000) for _ in range(3)]
    with pytest.raises(RecordTooLarge):
        await bus.publish_many([*many, (INBOUND, "acme", b"x" * (64 * 1024 + 1))])
    await bus.publish(INBOUND, "acme", b"small")

    async with bus.subscribe([INBOUND], "g1") as subscription:
        [record] = await take(subscription, 1)
        await nothing_more(subscription, wait_s=1)
    assert record.value == b"small"


async def test_many_records_published_together_keep_their_order(make_bus: BusFactory) -> None:
    bus = await make_bus()
    await bus.publish_many([(INBOUND, "acme", f"m{i}".encode()) for i in range(300)])

    async with bus.subscribe([INBOUND], "g1") as subscription:
        records = await take(subscription, 300)

    assert [r.value for r in records] == [f"m{i}".encode() for i in range(300)]


async def test_a_key_keeps_its_partition_and_order_however_its_records_were_published(
    make_bus: BusFactory,
) -> None:
    bus = await make_bus()
    keys = [f"tenant-{n}" for n in range(8)]
    for key in keys:
        await bus.publish(ROUTING, key, f"{key}:single".encode())
    # Records larger than a producer batch (16 KiB) among small ones, on two topics.
    many = [
        (topic, key, f"{key}:{n}:".encode() + b"x" * (40_000 if n % 7 == 3 else 10))
        for n in range(200)
        for key in keys[n % 3 :: 3]
        for topic in (ROUTING, INBOUND)
    ]
    await bus.publish_many(many)

    async with bus.subscribe([ROUTING, INBOUND], "g1") as subscription:
        records = await take(subscription, len(keys) + len(many))

    for key in keys:
        routing = [r for r in records if r.key == key and r.topic == ROUTING]
        assert len({r.partition for r in routing}) == 1, f"{key} spread over partitions"
        assert [r.value for r in routing] == [f"{key}:single".encode()] + [
            value for topic, k, value in many if k == key and topic == ROUTING
        ]
        inbound = [r.value for r in records if r.key == key and r.topic == INBOUND]
        assert inbound == [value for topic, k, value in many if k == key and topic == INBOUND]
