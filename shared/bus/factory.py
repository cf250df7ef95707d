"""Build the configured bus."""

from shared.bus.base import Bus
from shared.bus.kafka import KafkaBus
from shared.bus.local import LocalBus
from shared.config import Settings


def build_bus(settings: Settings) -> Bus:
    if settings.bus == "kafka":
        return KafkaBus(
            settings.kafka_bootstrap,
            partitions=settings.kafka_partitions,
            replication_factor=settings.kafka_replication_factor,
            max_record_bytes=settings.max_record_bytes,
            topic_prefix=settings.kafka_topic_prefix,
        )
    return LocalBus(settings.local_bus_path, max_record_bytes=settings.max_record_bytes)
