"""Prometheus metrics of the desk: queue depth and longest wait, agents by status
(refreshed from the read model every 2 s), offers by outcome and the wait
before an answer or abandonment (counted as the read model applies them)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import select

from services.agents import live
from shared.db.models import ConfigurationItem
from shared.events import utcnow
from shared.runtime import Runtime
from shared.stopping import sleep_unless

REFRESH_S = 2.0

OFFERS = Counter("omniroute_offers_total", "Offers to agents by outcome.", ["outcome"])
QUEUE_WAIT = Histogram(
    "omniroute_queue_wait_seconds",
    "Time in queue until answered or abandoned.",
    ["outcome"],
    buckets=(5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600),
)
QUEUE_WAITING = Gauge(
    "omniroute_queue_waiting", "Conversations waiting in a queue.", ["tenant", "queue"]
)
QUEUE_LONGEST_WAIT = Gauge(
    "omniroute_queue_longest_wait_seconds",
    "Wait of the longest-waiting conversation.",
    ["tenant", "queue"],
)
AGENTS = Gauge("omniroute_agents", "Active agents by status.", ["tenant", "status"])


async def refresh(runtime: Runtime) -> None:
    """Worker: keep the gauges at what the read model says."""
    while not runtime.stop.is_set():
        async with runtime.sessions() as session:
            tenants = (await session.scalars(select(ConfigurationItem.tenant).distinct())).all()
        now = utcnow()
        desks = [await live.desk(runtime.reads, tenant, now) for tenant in tenants]
        # Cleared and set with no await between: a scrape sees all of it or none.
        for gauge in (QUEUE_WAITING, QUEUE_LONGEST_WAIT, AGENTS):
            gauge.clear()
        for tenant, desk in zip(tenants, desks, strict=True):
            for queue in desk.queues:
                figures = desk.statistics(queue)
                QUEUE_WAITING.labels(tenant, queue.queue_id).set(figures.waiting)
                QUEUE_LONGEST_WAIT.labels(tenant, queue.queue_id).set(figures.longest_wait_s or 0)
            for agent in desk.agents:
                AGENTS.labels(tenant, agent.status.value).inc()
        await sleep_unless(runtime.stop, REFRESH_S)
