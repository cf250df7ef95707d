"""The indexed matching decides exactly what the plain policy decides by looking at every
free agent (selection.omniroute_selection), on random desks and random days."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.router.core.decide import Router
from services.router.core.selection import omniroute_selection
from services.router.core.state import Stage
from shared import events as ev
from tests.unit.router.desk import Desk

SKILLS = ("general", "billing")
CHANNELS = (ev.Channel.CHAT, ev.Channel.EMAIL)

actions = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.integers(0, 5), st.sampled_from(CHANNELS)),
        st.tuples(st.just("status"), st.integers(0, 5), st.sampled_from(ev.AgentStatus)),
        st.tuples(st.just("answer"), st.integers(0, 20), st.booleans()),
        st.tuples(st.just("close"), st.integers(0, 20), st.none()),
        st.tuples(st.just("wait"), st.sampled_from([5, 31, 61]), st.none()),
    ),
    max_size=80,
)
agents = st.lists(
    st.tuples(
        st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3)),
        st.dictionaries(st.sampled_from(CHANNELS), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=6,
)


def run(
    router: Router,
    staff: list[tuple[dict[str, int], dict[ev.Channel, int]]],
    plan: list[tuple[str, int, object]],
) -> list[ev.Payload]:
    desk = Desk(router=router)
    desk.queue("general", required_skills={"general": 1}, relax_after_s=(30,))
    desk.queue("billing", required_skills={"billing": 2}, priority=1)
    desk.rules(rules=(ev.RoutingRule(intent="chargeback", queue_id="billing"),))
    for n, (skills, capacity) in enumerate(staff):
        desk.agent(f"a{n}", skills=skills, capacity=capacity)
    texts = ("I was charged twice", "Where is my order?", "My card was stolen")
    for kind, n, extra in plan:
        conversations = list(desk.state.conversations.values())
        if kind == "write":
            assert isinstance(extra, ev.Channel)
            desk.customer_writes(texts[n % 3], channel=extra, customer=f"c{n}")
        elif kind == "status" and n < len(staff):
            assert isinstance(extra, ev.AgentStatus)
            desk.status(f"a{n}", extra)
        elif kind == "answer":
            offered = [c for c in conversations if c.offer]
            if offered:
                conversation = offered[n % len(offered)]
                assert conversation.offer is not None
                answer = ev.OfferAccepted if extra else ev.OfferDeclined
                desk.send(
                    answer(
                        offer_id=conversation.offer.offer_id,
                        conversation_id=conversation.conversation_id,
                        agent_id=conversation.offer.agent_id,
                    )
                )
        elif kind == "close":
            held = [c for c in conversations if c.stage is Stage.ASSIGNED]
            if held:
                desk.close(held[n % len(held)].conversation_id)
        elif kind == "wait":
            desk.wait(n)
    return [out.data for out in desk.log]


@settings(max_examples=300, deadline=None)
@given(staff=agents, plan=actions)
def test_indexed_matching_equals_looking_at_every_free_agent(
    staff: list[tuple[dict[str, int], dict[ev.Channel, int]]], plan: list[tuple[str, int, object]]
) -> None:
    indexed = run(Router(), staff, plan)
    # Any other function object takes the path that hands every free agent to the policy.
    plain = run(Router(selection=lambda *args: omniroute_selection(*args)), staff, plan)
    assert indexed == plain
