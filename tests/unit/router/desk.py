"""A small desk to drive the routing core in tests: a clock, a state and helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import TypeVar

from services.router.core.decide import Out, Router, Tick
from services.router.core.state import TenantState
from shared import events as ev

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ALL_CHANNELS = {channel: 3 for channel in ev.Channel}
P = TypeVar("P", bound=ev.Payload)


@dataclass
class Desk:
    router: Router = field(default_factory=Router)
    state: TenantState = field(default_factory=lambda: TenantState("acme"))
    now: datetime = START
    log: list[Out] = field(default_factory=list)
    inputs: list[ev.Envelope] = field(default_factory=list)
    _ids: count[int] = field(default_factory=lambda: count(1))

    def send(self, data: ev.Payload, key: str = "k") -> list[Out]:
        envelope = ev.Envelope.wrap(data, tenant="acme", key=key, at=self.now).model_copy(
            update={"id": f"e{next(self._ids)}"}
        )
        out = self.router.decide(self.state, envelope, self.now)
        self.inputs.append(envelope)
        self.log += out
        return out

    def wait(self, seconds: float) -> list[Out]:
        self.now += timedelta(seconds=seconds)
        out = self.router.decide(self.state, Tick(self.now), self.now)
        self.log += out
        return out

    def queue(self, queue_id: str, **settings: object) -> None:
        self.send(ev.QueueUpserted(queue_id=queue_id, name=queue_id.title(), **settings))

    def rules(self, **settings: object) -> None:
        settings.setdefault("default_queue_id", "general")
        self.send(ev.RoutingRulesChanged(**settings))

    def agent(
        self,
        agent_id: str,
        *,
        skills: dict[str, int] | None = None,
        capacity: dict[ev.Channel, int] | None = None,
        languages: tuple[str, ...] = (),
        available: bool = True,
    ) -> None:
        self.send(
            ev.AgentUpserted(
                agent_id=agent_id,
                name=agent_id.title(),
                skills=skills or {},
                capacity=ALL_CHANNELS if capacity is None else capacity,
                languages=languages,
            )
        )
        if available:
            self.status(agent_id, ev.AgentStatus.AVAILABLE)

    def status(self, agent_id: str, status: ev.AgentStatus) -> list[Out]:
        return self.send(ev.AgentStatusChanged(agent_id=agent_id, status=status))

    def customer_writes(
        self,
        text: str = "Hello, my card was charged twice and I want my money back",
        *,
        channel: ev.Channel = ev.Channel.CHAT,
        thread: str | None = None,
        customer: str = "cust-1",
        tier: str | None = None,
    ) -> list[Out]:
        n = next(self._ids)
        return self.send(
            ev.MessageReceived(
                channel=channel,
                provider="test",
                provider_message_id=f"pm{n}",
                thread_key=thread or f"thread-{n}",
                customer=ev.Customer(id=customer, tier=tier),
                text=text,
            )
        )

    def accept(self, offer: ev.OfferCreated) -> list[Out]:
        return self.send(
            ev.OfferAccepted(
                offer_id=offer.offer_id,
                conversation_id=offer.conversation_id,
                agent_id=offer.agent_id,
            )
        )

    def decline(self, offer: ev.OfferCreated) -> list[Out]:
        return self.send(
            ev.OfferDeclined(
                offer_id=offer.offer_id,
                conversation_id=offer.conversation_id,
                agent_id=offer.agent_id,
            )
        )

    def close(self, conversation_id: str, agent_id: str | None = None) -> list[Out]:
        return self.send(
            ev.ConversationCloseRequested(
                conversation_id=conversation_id, by_agent_id=agent_id, disposition="resolved"
            )
        )


def only(out: list[Out], kind: type[P]) -> P:
    found = of(out, kind)
    assert len(found) == 1, (
        f"expected one {kind.__name__} in {[type(o.data).__name__ for o in out]}"
    )
    return found[0]


def of(out: list[Out], kind: type[P]) -> list[P]:
    return [o.data for o in out if isinstance(o.data, kind)]
