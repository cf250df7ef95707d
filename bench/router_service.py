"""Router service throughput on Kafka and PostgreSQL, against a raw aiokafka loop.

    bash deploy/local/with-deps.sh .venv/bin/python -m bench.router_service [--messages 20000]

All read the same number of pre-published records from the same broker and
write records with acks=all, committing as they go:

- baseline: a bare aiokafka consume-and-produce loop (no validation, no state),
  one record out per record in;
- router: the router service (validation, routing decisions, one PostgreSQL
  transaction per batch with state, offsets and outbox, and the relay that
  publishes the outbox). It writes several events per input (a new chat: opened,
  scored, message appended, queued, assigned; a message of a chat held: appended);
- the baseline again, writing as many records per input as the router did, of the
  router's mean size: the Kafka work alone of the router's output.

Two kinds of traffic: a desk's, chats of five customer messages each (the chaos
test's customers wrote 10,000 messages in 1,994 conversations), and the worst case
for the router, every message a new chat. For each, three rounds that run the three
loops back to back; prints records in per second of each and the router's ratio to
both baselines (the median, and each round's ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select

from services.router.service import GROUP, RouterService
from shared import events as ev
from shared.bus.kafka import FETCH_MAX_WAIT_MS, KafkaBus
from shared.config import Settings
from shared.db.migrate import upgrade_async
from shared.db.models import OutboxRecord, RouterOffset
from shared.db.outbox import relay
from shared.process import tune_garbage_collector
from shared.runtime import bootstrap
from tests.databases import fresh_database

AGENTS = 200
RUNS = 3
# (what the traffic is, customer messages per chat)
TRAFFIC = (("a desk: chats of five messages", 5), ("every message a new chat", 1))
FIRST = "Hi, I was charged twice for my order and want a refund"
FOLLOW_UP = "It was order 48213, paid by card on Monday. Can you check?"


def message(n: int, per_chat: int = 1) -> ev.Envelope:
    """The n-th customer message: chats of `per_chat` messages, one after the other."""
    chat = n // per_chat
    return ev.Envelope.wrap(
        ev.MessageReceived(
            channel=ev.Channel.CHAT,
            provider="bench",
            provider_message_id=f"m{n}",
            thread_key=f"session-{chat}",
            customer=ev.Customer(id=f"visitor-{chat}"),
            text=FIRST if n % per_chat == 0 else FOLLOW_UP,
        ),
        tenant=f"tenant{chat % 4}",
        key=f"session-{chat}",
    )


async def raw_loop(
    bootstrap_servers: str, messages: int, *, out_per_in: float = 1, out_bytes: int | None = None
) -> float:
    source, sink = f"bench.raw.{uuid.uuid4().hex[:8]}", f"bench.out.{uuid.uuid4().hex[:8]}"
    bus = KafkaBus(bootstrap_servers, topics=[source, sink], partitions=6)
    await bus.start()
    await bus.publish_many(
        [(source, f"tenant{n % 4}", ev.encode(message(n))) for n in range(messages)]
    )
    await bus.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, enable_idempotence=True, acks="all"
    )
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap_servers,
        group_id="bench-raw",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # As the services' consumers: with aiokafka's default of 500 ms a fetch for
        # partitions already drained stalled the loop for 250-350 ms once in a run.
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
    )
    await producer.start()
    await consumer.start()
    await producer.send_and_wait(sink, b"warm-up")  # the new topic's leaders are known
    done = 0
    started = time.perf_counter()
    while done < messages:
        batches = await consumer.getmany(timeout_ms=500, max_records=500)
        for records in batches.values():
            sends = [
                await producer.send(
                    sink, r.value if out_bytes is None else bytes(out_bytes), key=r.key
                )
                for n, r in enumerate(records, start=done)
                # out_per_in on average: 3.85 writes 3 or 4, as the router does
                for _ in range(int((n + 1) * out_per_in) - int(n * out_per_in))
            ]
            await asyncio.gather(*sends)
            done += len(records)
        await consumer.commit()
    elapsed = time.perf_counter() - started
    await consumer.stop()
    await producer.stop()
    return messages / elapsed


@dataclass(frozen=True)
class Routed:
    records_per_s: float
    out_per_in: float  # records the router published per record it read
    out_bytes: int  # their mean size


async def router_loop(
    bootstrap_servers: str, database_url: str, messages: int, *, per_chat: int
) -> Routed:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    await upgrade_async(database_url)
    bus = KafkaBus(bootstrap_servers, topic_prefix=prefix, partitions=6)
    runtime = bootstrap(Settings(database_url=database_url), bus=bus)
    await bus.start()
    setup = 0
    for tenant in range(4):
        config: list[tuple[str, ev.Payload]] = [
            (ev.CONFIG, ev.QueueUpserted(queue_id="general", name="General", auto_accept=True)),
            (ev.CONFIG, ev.RoutingRulesChanged(default_queue_id="general")),
        ]
        for a in range(AGENTS // 4):
            config.append(
                (ev.CONFIG, ev.AgentUpserted(agent_id=f"a{a}", name="A", capacity={"chat": 3}))
            )
            config.append(
                (
                    ev.AGENT_EVENTS,
                    ev.AgentStatusChanged(agent_id=f"a{a}", status=ev.AgentStatus.AVAILABLE),
                )
            )
        for topic, payload in config:
            envelope = ev.Envelope.wrap(payload, tenant=f"tenant{tenant}", key="k")
            await bus.publish(topic, envelope.tenant, envelope)
            setup += 1
    inbound = [message(n, per_chat) for n in range(messages)]
    await bus.publish_many([(ev.INBOUND, m.tenant, ev.encode(m)) for m in inbound])

    service = RouterService(runtime)
    published = Published(bus)
    started = time.perf_counter()
    workers = [
        asyncio.create_task(service.consume()),
        asyncio.create_task(
            relay(runtime.sessions, bus, stop=runtime.stop, written=runtime.outbox_written)
        ),
    ]
    while True:
        async with runtime.sessions() as session:
            applied = await session.scalar(
                select(func.coalesce(func.sum(RouterOffset.next_offset), 0)).where(
                    RouterOffset.grp == GROUP
                )
            )
            pending = await session.scalar(select(func.count()).select_from(OutboxRecord))
        if applied == setup + messages and pending == 0:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    runtime.stop.set()
    await asyncio.gather(*workers)
    await bus.close()
    await runtime.close_database()
    return Routed(
        (setup + messages) / elapsed,
        published.records / (setup + messages),
        published.bytes // published.records,
    )


class Published:
    """Counts what the relay publishes through the bus."""

    def __init__(self, bus: KafkaBus) -> None:
        self.records = self.bytes = 0
        publish_many = bus.publish_many

        async def counted(records: Sequence[tuple[str, str, bytes]]) -> None:
            self.records += len(records)
            self.bytes += sum(len(value) for _, _, value in records)
            await publish_many(records)

        bus.publish_many = counted  # type: ignore[method-assign]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    args = parser.parse_args()
    tune_garbage_collector()  # as `omniroute router` does
    for traffic, per_chat in TRAFFIC:
        print(f"{traffic}, {args.messages:,} messages:", flush=True)
        await compare(args.messages, per_chat)


async def compare(messages: int, per_chat: int) -> None:
    kafka = os.environ["OMNIROUTE_TEST_KAFKA"]
    server = os.environ["OMNIROUTE_TEST_DATABASE_URL"]
    # Three rounds, each running the three back to back: a run is a second or two, and
    # this machine's slow and fast spells then weigh on a round's baselines and router
    # alike (run as three blocks, a slow spell could fall on one block: the router alone
    # ran 4,300 to 6,800 records/s within minutes here). Each rate is the median over
    # the rounds, each ratio the median of the rounds' ratios.
    rounds: list[tuple[float, Routed, float]] = []
    for _ in range(RUNS):
        one_to_one = await raw_loop(kafka, messages)
        async with fresh_database(server) as database:  # no state of an earlier run to restore
            run = await router_loop(kafka, database, messages, per_chat=per_chat)
        output_only = await raw_loop(
            kafka, messages, out_per_in=run.out_per_in, out_bytes=run.out_bytes
        )
        rounds.append((one_to_one, run, output_only))
    routed = sorted((r for _, r, _ in rounds), key=lambda r: r.records_per_s)[RUNS // 2]
    raw, same_output = median(r[0] for r in rounds), median(r[2] for r in rounds)
    to_raw = [r.records_per_s / base for base, r, _ in rounds]
    to_same = [r.records_per_s / base for _, r, base in rounds]
    print(f"raw loop, 1 record out per record in:      {raw:>9,.0f} records in/s")
    print(
        f"router service (Kafka + PostgreSQL):        {routed.records_per_s:>9,.0f} records in/s"
        f"  ({routed.out_per_in:.2f} out per in, {routed.out_bytes} bytes each)"
    )
    print(f"raw loop, the router's output per input:   {same_output:>9,.0f} records in/s")
    print(f"ratio router / raw 1:1 loop:                {median(to_raw):>9.2f}  {_rounds(to_raw)}")
    print(
        f"ratio router / raw loop of the same output: {median(to_same):>9.2f}  {_rounds(to_same)}",
        flush=True,
    )


def _rounds(ratios: Sequence[float]) -> str:
    return "(rounds: " + " ".join(f"{ratio:.2f}" for ratio in ratios) + ")"


if __name__ == "__main__":
    asyncio.run(main())
