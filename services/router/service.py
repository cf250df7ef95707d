"""The router service: consumes commands and messages, records decisions, relays its outbox."""

import structlog
from fastapi import FastAPI

from shared.bus.consumer import consume
from shared.events import AGENT_EVENTS, CONFIG, INBOUND, Envelope
from shared.runtime import Runtime, relay_outbox, service_app

log = structlog.get_logger(__name__)

GROUP = "router"
INPUT_TOPICS = (INBOUND, AGENT_EVENTS, CONFIG)


async def route_events(runtime: Runtime) -> None:
    """Worker: validate every input record (invalid ones are dead-lettered) and route it."""
    await consume(runtime.bus, INPUT_TOPICS, GROUP, _route, stop=runtime.stop)


async def _route(envelope: Envelope) -> None:
    # The routing core (decide(state, event, now)) plugs in here; until it lands the
    # router only validates its input, so bad records are dead-lettered from day one.
    log.debug("router.received", tenant=envelope.tenant, event_type=envelope.type)


def create_app(runtime: Runtime) -> FastAPI:
    return service_app("omniroute router", runtime, workers=[route_events, relay_outbox])
