"""How many routing decisions per second the pure core makes, as the desk grows.

    python -m bench.core_decisions [--decisions 30000] [--sizes 100 1000 10000]

For each size, a desk of N agents (three queues, skills spread over them, chat
capacity 3) holds ten times as many open conversations: every agent full and
the rest waiting. Then the steady state is timed: an agent closes a
conversation, the next waiting one is offered to them, they accept, a new
customer writes. Only `decide` is timed; building the inputs is not.

Prints decisions per second per size (the fastest of five rounds) and the cost
per decision as a ratio to the smallest size, measured in the same run, and
whether the core ran compiled (`make bench` builds it; shared/compiled.py) or
interpreted (OMNIROUTE_INTERPRETED=1).
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from services.router.core import decide
from services.router.core.decide import Router
from services.router.core.state import Stage, TenantState
from shared import events as ev
from shared.compiled import is_compiled
from shared.language import detect
from shared.process import tune_garbage_collector

QUEUES = ("general", "billing", "fraud")
# Rounds of the steady state per size; the fastest counts, as timeit's does: this
# machine's noise only ever adds time (one size gave 16,000 to 28,000 decisions/s).
ROUNDS = 5
TEXTS = (
    "Hi, I was charged twice for my order and want a refund",
    "Where is my order? It has been two weeks",
    "Hola, no reconozco un cargo en mi tarjeta",
    "Quiero cambiar mi dirección de envío y cancelar el pedido anterior",
)


class Desk:
    def __init__(self, agents: int, seed: int = 7) -> None:
        self.router = Router()
        self.state = TenantState("bench")
        self.now = datetime(2026, 11, 24, 9, tzinfo=UTC)
        self.rng = random.Random(seed)  # noqa: S311 (a repeatable workload)
        self.n = 0
        self.timed = 0.0
        self.decisions = 0
        for queue in QUEUES:
            self.send(ev.QueueUpserted(queue_id=queue, name=queue, required_skills={queue: 1}))
        self.send(
            ev.RoutingRulesChanged(
                default_queue_id="general",
                rules=(
                    ev.RoutingRule(intent="fraud", queue_id="fraud"),
                    ev.RoutingRule(intent="chargeback", queue_id="billing"),
                ),
            )
        )
        for a in range(agents):
            skills = {queue: 3 for queue in QUEUES if self.rng.random() < 0.7} or {"general": 3}
            self.send(
                ev.AgentUpserted(
                    agent_id=f"a{a}",
                    name=f"Agent {a}",
                    skills=skills,
                    capacity={ev.Channel.CHAT: 3},
                )
            )
            self.send(ev.AgentStatusChanged(agent_id=f"a{a}", status=ev.AgentStatus.AVAILABLE))
        for _ in range(agents * 10):
            self.accept_offers(self.customer_writes())

    def send(self, data: ev.Payload) -> list[object]:
        self.n += 1
        self.now += timedelta(milliseconds=10)
        envelope = ev.Envelope.wrap(data, tenant="bench", key="k", at=self.now).model_copy(
            update={"id": f"e{self.n}"}
        )
        started = time.perf_counter()
        out = self.router.decide(self.state, envelope, self.now)
        self.timed += time.perf_counter() - started
        self.decisions += 1
        return out  # type: ignore[return-value]

    def customer_writes(self) -> list[object]:
        text = self.rng.choice(TEXTS)
        return self.send(
            ev.MessageReceived(
                channel=ev.Channel.CHAT,
                provider="bench",
                provider_message_id=f"m{self.n}",
                thread_key=f"t{self.n}",
                customer=ev.Customer(id=f"c{self.rng.randrange(10**9)}"),
                text=text,
                # Every channel attaches it (services/channels/webhooks.py), so the
                # core never detects the language itself.
                language_hint=detect(text),
            )
        )

    def accept(self, conversation_id: str) -> None:
        conversation = self.state.conversations.get(conversation_id)
        if conversation and conversation.offer:
            offer = conversation.offer
            self.send(
                ev.OfferAccepted(
                    offer_id=offer.offer_id,
                    conversation_id=conversation_id,
                    agent_id=offer.agent_id,
                )
            )

    def steady_state(self, decisions: int) -> None:
        assigned = [
            c.conversation_id
            for c in self.state.conversations.values()
            if c.stage is Stage.ASSIGNED
        ]
        self.rng.shuffle(assigned)
        while self.decisions < decisions:
            closing = assigned.pop()
            out = self.send(
                ev.ConversationCloseRequested(conversation_id=closing, disposition="resolved")
            )
            assigned[:0] = self.accept_offers(out)
            self.customer_writes()

    def timed_round(self, decisions: int) -> float:
        """Seconds per decision over `decisions` more of the steady state."""
        self.timed, self.decisions = 0.0, 0
        self.steady_state(decisions)
        return self.timed / self.decisions

    def accept_offers(self, out: list[object]) -> list[str]:
        accepted = []
        for item in out:
            data = item.data  # type: ignore[attr-defined]
            if isinstance(data, ev.OfferCreated):
                self.accept(data.conversation_id)
                accepted.append(data.conversation_id)
        return accepted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=30_000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000])
    args = parser.parse_args()
    tune_garbage_collector()  # as the router's process does
    baseline: float | None = None
    print(f"routing core: {'compiled (mypyc)' if is_compiled(decide) else 'interpreted'}")
    print(
        f"{'agents':>7} {'conversations':>13} {'decisions/s':>12} {'µs/decision':>12} {'x cost':>7}"
    )
    for size in args.sizes:
        desk = Desk(size)
        conversations = len(desk.state.conversations)
        per_decision = min(desk.timed_round(args.decisions) for _ in range(ROUNDS))
        baseline = baseline or per_decision
        print(
            f"{size:>7} {conversations:>13} {1 / per_decision:>12,.0f} "
            f"{per_decision * 1e6:>12.1f} {per_decision / baseline:>7.2f}"
        )


if __name__ == "__main__":
    main()
