"""Environments that share one Kafka cluster, told apart by their topic prefix."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient

from shared.bus.kafka import KafkaBus
from shared.events import INBOUND
from tests.conftest import unique
from tests.integration.test_bus_contract import take


async def test_each_environment_has_consumer_groups_of_its_own(kafka_bootstrap: str) -> None:
    """A group shared across environments would make one environment's crashed consumer
    hold up the other's in every rebalance, until its session timed out."""
    staging, production = (
        KafkaBus(kafka_bootstrap, topic_prefix=unique(name) + ".", partitions=1)
        for name in ("staging", "production")
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        for bus in (staging, production):
            await bus.start()
            await bus.publish(INBOUND, "acme", bus.topic_prefix.encode())
            async with bus.subscribe([INBOUND], "router") as subscription:
                [record] = await take(subscription, 1)
                assert record.value == bus.topic_prefix.encode()
                await subscription.commit([record])
        await admin.start()
        groups = {group for group, _ in await admin.list_consumer_groups()}
    finally:
        await admin.close()
        for bus in (staging, production):
            await bus.close()

    assert {staging.topic_prefix + "router", production.topic_prefix + "router"} <= groups
