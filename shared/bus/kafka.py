"""KafkaBus: the production event log on Apache Kafka (aiokafka).

Services name topics by their contract names (cc.inbound.v1); an optional
prefix maps them onto a cluster that several environments share. Consumer groups
carry the prefix too: environments never join each other's groups, so one's crash
or restart never holds up another's consumers in a rebalance.

The producer is idempotent with acks=all, so `publish` returns only once every
in-sync replica has the record. Consumers never auto-commit: offsets move only
when the handler says the records are done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType
from typing import Self

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, IllegalStateError

from shared.bus.base import Record, to_bytes
from shared.bus.partitioner import Murmur2Partitioner
from shared.events import COMPACTED_TOPICS, TOPICS, Envelope

log = structlog.get_logger(__name__)

_TOPIC_ALREADY_EXISTS = 36
# Headroom for the record batch framing around one record of max_record_bytes.
_REQUEST_OVERHEAD_BYTES = 64 * 1024
# How long the broker may hold a fetch that finds nothing new. A fetch in flight leaves
# out the partitions whose records the consumer has not taken yet, so a record arriving
# on one of those waits for it to end: at the default 500 ms that was most of the 0.5 s
# from webhook to desk at 20 messages/s; at 50 ms it costs an idle consumer 20 small
# fetches a second.
FETCH_MAX_WAIT_MS = 50


class KafkaBus:
    def __init__(
        self,
        bootstrap: str,
        *,
        topics: Sequence[str] = TOPICS,
        partitions: int = 6,
        replication_factor: int = 1,
        max_record_bytes: int = 1_000_000,
        session_timeout_ms: int = 10_000,
        topic_prefix: str = "",
    ) -> None:
        self.bootstrap = bootstrap
        self.topic_prefix = topic_prefix
        self.topics = tuple(topics)
        self.partitions = partitions
        self.replication_factor = replication_factor
        self.max_record_bytes = max_record_bytes
        self.session_timeout_ms = session_timeout_ms
        self._producer: AIOKafkaProducer | None = None
        self._partitioner = Murmur2Partitioner()
        self._admin: AIOKafkaAdminClient | None = None

    async def start(self) -> None:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await self._admin.start()
        await self.create_topics(self.topics)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            enable_idempotence=True,
            acks="all",
            max_request_size=self.max_record_bytes + _REQUEST_OVERHEAD_BYTES,
            # Relays publish thousands of records at once: 256 KiB batches instead of
            # 16 KiB halve the producer's CPU per record.
            max_batch_size=256 * 1024,
            partitioner=self._partitioner,
        )
        await self._producer.start()

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.flush()
            await self._producer.stop()
            self._producer = None
        if self._admin is not None:
            await self._admin.close()
            self._admin = None

    async def create_topics(self, topics: Sequence[str]) -> None:
        """Create the topics that do not exist yet (cc.config.v1 compacted)."""
        if self._admin is None:
            raise RuntimeError("KafkaBus is not started")
        new = [
            NewTopic(
                name=self.topic_prefix + topic,
                num_partitions=self.partitions,
                replication_factor=self.replication_factor,
                topic_configs={"cleanup.policy": "compact"} if topic in COMPACTED_TOPICS else {},
            )
            for topic in topics
        ]
        response = await self._admin.create_topics(new)
        for topic, code, message in (error[:3] for error in response.topic_errors):
            if code not in (0, _TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"cannot create topic {topic}: {message} (error {code})")

    async def partition_counts(self) -> dict[str, int]:
        """The partitions each of this bus's topics has on the broker."""
        if self._admin is None:
            raise RuntimeError("KafkaBus is not started")
        names = [self.topic_prefix + topic for topic in self.topics]
        described = await self._admin.describe_topics(names)
        return {
            entry["topic"].removeprefix(self.topic_prefix): len(entry["partitions"])
            for entry in described
        }

    async def publish(self, topic: str, key: str, event: Envelope | bytes) -> None:
        if self._producer is None:
            raise RuntimeError("KafkaBus is not started")
        value = to_bytes(topic, event, self.max_record_bytes)
        await self._producer.send_and_wait(self.topic_prefix + topic, value, key=key.encode())

    async def publish_many(self, records: Sequence[tuple[str, str, bytes]]) -> None:
        """Publish in order per key, in record batches built here per partition: a relay
        moves thousands of records, and one `send` each cost twice the CPU."""
        if self._producer is None:
            raise RuntimeError("KafkaBus is not started")
        producer = self._producer
        # Every record checked before the first leaves: an oversized one publishes none.
        values = [
            (self.topic_prefix + topic, key.encode(), to_bytes(topic, value, self.max_record_bytes))
            for topic, key, value in records
        ]
        # The partitioner `send` uses, so a key's records share a partition however
        # they were published; each partition's records keep their order.
        partition_of: dict[tuple[str, bytes], int] = {}
        by_partition: dict[tuple[str, int], list[tuple[bytes, bytes]]] = {}
        for name, key_bytes, value in values:
            if (name, key_bytes) not in partition_of:
                every = sorted(await producer.partitions_for(name))
                partition_of[(name, key_bytes)] = self._partitioner(key_bytes, every, every)
            partition = partition_of[(name, key_bytes)]
            by_partition.setdefault((name, partition), []).append((key_bytes, value))
        acks: list[asyncio.Future[object]] = []
        for (name, partition), items in by_partition.items():
            batch = producer.create_batch()
            for key_bytes, value in items:
                if batch.append(key=key_bytes, value=value, timestamp=None) is None:
                    # Full: it leaves, and a new batch takes the record.
                    acks.append(await producer.send_batch(batch, name, partition=partition))
                    batch = producer.create_batch()
                    batch.append(key=key_bytes, value=value, timestamp=None)
            acks.append(await producer.send_batch(batch, name, partition=partition))
        await asyncio.gather(*acks)

    def subscribe(self, topics: Sequence[str], group: str) -> KafkaSubscription:
        return KafkaSubscription(
            self.topic_prefix,
            AIOKafkaConsumer(
                *(self.topic_prefix + topic for topic in topics),
                bootstrap_servers=self.bootstrap,
                group_id=self.topic_prefix + group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=self.session_timeout_ms,
                heartbeat_interval_ms=max(self.session_timeout_ms // 5, 100),
                max_partition_fetch_bytes=self.max_record_bytes + _REQUEST_OVERHEAD_BYTES,
                fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            ),
        )

    async def ping(self) -> None:
        if self._admin is None:
            raise RuntimeError("KafkaBus is not started")
        await self._admin.describe_cluster()


class KafkaSubscription:
    def __init__(self, topic_prefix: str, consumer: AIOKafkaConsumer) -> None:
        self._prefix = topic_prefix
        self._consumer = consumer

    async def __aenter__(self) -> Self:
        await self._consumer.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._consumer.stop()

    async def fetch(self, *, max_records: int = 500, timeout_s: float = 1.0) -> list[Record]:
        batches = await self._consumer.getmany(
            timeout_ms=int(timeout_s * 1000), max_records=max_records
        )
        return [
            Record(
                message.topic.removeprefix(self._prefix),
                message.partition,
                message.offset,
                message.key.decode() if message.key is not None else None,
                message.value,
            )
            for messages in batches.values()
            for message in messages
        ]

    async def commit(self, records: Sequence[Record]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            partition = TopicPartition(self._prefix + record.topic, record.partition)
            offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as error:
            # The group rebalanced while we handled these records: their new owner
            # will get them again, which idempotent handlers tolerate.
            log.warning("bus.commit_lost_to_rebalance", error=str(error))
