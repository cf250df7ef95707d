"""The bus port: what the services need from an event log, whatever implements it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from shared.events import Envelope, encode


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes


class RecordTooLarge(ValueError):
    """The record is larger than the bus accepts; nothing was published."""

    def __init__(self, topic: str, size: int, limit: int) -> None:
        super().__init__(
            f"record for {topic} is {size} bytes, more than the limit of {limit} bytes "
            "(OMNIROUTE_MAX_RECORD_BYTES)"
        )
        self.size = size
        self.limit = limit


class Subscription(Protocol):
    """Records of some topics for one consumer group.

    Offsets advance only through `commit`: a record fetched but not committed
    is fetched again by the group's next consumer (after a crash or a restart).
    """

    async def fetch(self, *, max_records: int = 500, timeout_s: float = 1.0) -> list[Record]:
        """The next records (possibly none after `timeout_s`), in order per key."""
        ...

    async def commit(self, records: Sequence[Record]) -> None:
        """Mark these records, and every earlier one of their partitions, handled."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Bus(Protocol):
    max_record_bytes: int

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, topic: str, key: str, event: Envelope | bytes) -> None:
        """Append one record; returns once the log has durably acknowledged it."""
        ...

    async def publish_many(self, records: Sequence[tuple[str, str, bytes]]) -> None:
        """Append (topic, key, value) records in order; returns once all are acknowledged.
        Much faster than one `publish` after another: they travel together."""
        ...

    def subscribe(self, topics: Sequence[str], group: str) -> Subscription: ...

    async def ping(self) -> None:
        """Raise if the log cannot be reached (for /readyz)."""
        ...


def to_bytes(topic: str, event: Envelope | bytes, limit: int) -> bytes:
    value = encode(event) if isinstance(event, Envelope) else event
    if len(value) > limit:
        raise RecordTooLarge(topic, len(value), limit)
    return value
