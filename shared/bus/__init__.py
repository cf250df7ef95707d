"""The event log: a small `Bus` port with a Kafka and a local SQLite implementation."""

from shared.bus.base import Bus, Record, RecordTooLarge, Subscription

__all__ = ["Bus", "Record", "RecordTooLarge", "Subscription"]
