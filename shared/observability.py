"""Structured JSON logs and Prometheus metrics, the same for every service."""

from __future__ import annotations

import logging
import sys

import structlog
from prometheus_client import Counter

EVENTS_CONSUMED = Counter(
    "omniroute_events_consumed_total", "Events handled by a consumer group.", ["group", "topic"]
)
DEAD_LETTERS = Counter(
    "omniroute_dead_letters_total", "Records refused to cc.dead-letter.v1.", ["topic"]
)
OUTBOX_PUBLISHED = Counter(
    "omniroute_outbox_published_total", "Events relayed from the outbox to the bus."
)


def configure_logging(level: str = "info") -> None:
    """One JSON object per line on stdout, for our logs and for library logs alike."""
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared_processors,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Kafka client chatter at INFO (connections, rebalances) drowns the service's own logs.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
