"""The router's invariants over random sequences of messages, agent actions and time.

After every decision: no agent above capacity; a conversation is offered to or
held by at most one agent; no eligible agent is left idle while a conversation
waits for them (work-conserving); the rows the service would have rewritten (those
the decision's events name) hold the whole state. At the end, once agents work the
queues down, every conversation is closed and, once the wrap-ups run out, every
slot is free.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from services.router import snapshot
from services.router.core.selection import is_eligible
from services.router.core.state import Stage
from shared import events as ev
from tests.unit.router.desk import Desk, of
from tests.unit.router.rows import Rows

SKILLS = ("general", "billing", "fraud")
CHANNELS = (ev.Channel.CHAT, ev.Channel.EMAIL, ev.Channel.WHATSAPP)
TEXTS = (
    "What are your opening hours?",
    "I was charged twice, I want a chargeback NOW!!",
    "Someone used my card, this is fraud",
    "Can I get a copy of my invoice?",
    "Hola, ¿dónde está mi pedido?",
    "Quiero darme de baja, es una vergüenza",
)


class RouterMachine(RuleBasedStateMachine):
    desk: Desk
    rows: Rows

    @initialize(
        queues=st.lists(
            st.tuples(
                st.sampled_from(SKILLS),
                st.integers(1, 3),
                st.integers(0, 2),
                st.booleans(),
                st.sampled_from([(), (20,), (20, 60)]),
                st.sampled_from([0, 0, 15, 45]),
            ),
            min_size=1,
            max_size=3,
            unique_by=lambda q: q[0],
        ),
        agents=st.lists(
            st.tuples(
                st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5)),
                st.dictionaries(st.sampled_from(CHANNELS), st.integers(0, 3)),
            ),
            min_size=1,
            max_size=5,
        ),
        bot=st.booleans(),
    )
    def configure(
        self,
        queues: list[tuple[str, int, int, bool, tuple[int, ...], int]],
        agents: list[tuple[dict[str, int], dict[ev.Channel, int]]],
        bot: bool,
    ) -> None:
        self.desk = Desk()
        for skill, level, priority, auto_accept, relax, wrap_up in queues:
            self.desk.queue(
                skill,
                required_skills={skill: level},
                priority=priority,
                auto_accept=auto_accept,
                relax_after_s=relax,
                wrap_up_s=wrap_up,
            )
        self.desk.rules(
            default_queue_id=queues[0][0],
            bot_channels=(ev.Channel.CHAT,) if bot else (),
            rules=tuple(ev.RoutingRule(intent=q[0], queue_id=q[0]) for q in queues),
            max_missed_offers=2,
        )
        for n, (skills, capacity) in enumerate(agents):
            self.desk.agent(f"agent{n}", skills=skills, capacity=capacity)
        self.rows = Rows.whole(self.desk.state)
        self.desk.state.customers_changed.clear()
        self.stored = (len(self.desk.inputs), len(self.desk.log))

    @property
    def conversations(self) -> list[str]:
        return list(self.desk.state.conversations)

    def _in(self, stage: Stage) -> list[str]:
        return [
            c.conversation_id for c in self.desk.state.conversations.values() if c.stage is stage
        ]

    @rule(
        text=st.sampled_from(TEXTS),
        channel=st.sampled_from(CHANNELS),
        customer=st.integers(0, 6),
        thread=st.integers(0, 10),
        tier=st.sampled_from([None, "vip"]),
    )
    def customer_writes(
        self, text: str, channel: ev.Channel, customer: int, thread: int, tier: str | None
    ) -> None:
        self.desk.customer_writes(
            text, channel=channel, customer=f"c{customer}", thread=f"t{thread}", tier=tier
        )

    @rule(n=st.integers(0, 4), status=st.sampled_from(ev.AgentStatus))
    def agent_status(self, n: int, status: ev.AgentStatus) -> None:
        self.desk.status(f"agent{n}", status)

    @rule(data=st.data(), accept=st.booleans())
    def answer_offer(self, data: st.DataObject, accept: bool) -> None:
        offered = [self.desk.state.conversations[c] for c in self.desk.state.offers.values()]
        if offered:
            conversation = data.draw(st.sampled_from(offered))
            assert conversation.offer is not None
            answer = ev.OfferAccepted if accept else ev.OfferDeclined
            self.desk.send(
                answer(
                    offer_id=conversation.offer.offer_id,
                    conversation_id=conversation.conversation_id,
                    agent_id=conversation.offer.agent_id,
                )
            )

    @rule(data=st.data())
    def agent_closes(self, data: st.DataObject) -> None:
        assigned = self._in(Stage.ASSIGNED)
        if assigned:
            self.desk.close(data.draw(st.sampled_from(assigned)))

    @rule(data=st.data())
    def agent_ends_wrap_up(self, data: st.DataObject) -> None:
        wrapping = [
            (agent.agent_id, cid)
            for agent in self.desk.state.agents.values()
            for cid in agent.wrap_ups
        ]
        if wrapping:
            agent_id, cid = data.draw(st.sampled_from(wrapping))
            self.desk.send(ev.WrapUpEndRequested(agent_id=agent_id, conversation_id=cid))

    @rule(data=st.data(), to=st.sampled_from(SKILLS))
    def agent_transfers(self, data: st.DataObject, to: str) -> None:
        assigned = self._in(Stage.ASSIGNED)
        if assigned and to in self.desk.state.queues:
            self.desk.send(
                ev.ConversationTransferRequested(
                    conversation_id=data.draw(st.sampled_from(assigned)), to_queue_id=to
                )
            )

    @rule(data=st.data(), resolved=st.booleans())
    def bot_finishes(self, data: st.DataObject, resolved: bool) -> None:
        with_bot = self._in(Stage.BOT)
        if with_bot:
            cid = data.draw(st.sampled_from(with_bot))
            self.desk.send(
                ev.BotResolved(conversation_id=cid)
                if resolved
                else ev.BotEscalated(conversation_id=cid, reason="asked for a person")
            )

    @rule(seconds=st.sampled_from([1, 10, 30, 61]))
    def time_passes(self, seconds: int) -> None:
        self.desk.wait(seconds)

    @invariant()
    @precondition(lambda self: hasattr(self, "desk"))
    def no_agent_above_capacity_and_load_matches_what_they_hold(self) -> None:
        held: Counter[tuple[str, ev.Channel]] = Counter()
        for conversation in self.desk.state.conversations.values():
            holder = conversation.agent_id or (conversation.offer and conversation.offer.agent_id)
            if holder:
                held[(holder, conversation.channel)] += 1
        for agent in self.desk.state.agents.values():
            for channel, _ in agent.wrap_ups.values():  # after-contact work takes a slot
                held[(agent.agent_id, channel)] += 1
            for channel in CHANNELS:
                assert held[(agent.agent_id, channel)] == agent.load.get(channel, 0)
                assert agent.load.get(channel, 0) <= agent.capacity.get(channel, 0)

    @invariant()
    @precondition(lambda self: hasattr(self, "desk"))
    def a_conversation_is_offered_to_or_held_by_at_most_one_agent(self) -> None:
        for conversation in self.desk.state.conversations.values():
            assert not (conversation.offer and conversation.agent_id)
            assert (conversation.stage is Stage.OFFERED) == (conversation.offer is not None)
            assert (conversation.stage is Stage.ASSIGNED) == (conversation.agent_id is not None)

    @invariant()
    @precondition(lambda self: hasattr(self, "desk"))
    def work_conserving(self) -> None:
        state = self.desk.state
        reoffer = state.rules.reoffer_after_s if state.rules else 60
        for queue in state.queues.values():
            for conversation_id in queue.waiting():
                conversation = state.conversations[conversation_id]
                assert conversation.stage is Stage.QUEUED
                idle = [
                    agent.agent_id
                    for agent in state.agents.values()
                    if is_eligible(
                        agent, conversation, queue, self.desk.now, reoffer_after_s=reoffer
                    )
                ]
                assert idle == [], f"{idle} could take {conversation_id}"

    @invariant()
    @precondition(lambda self: hasattr(self, "desk"))
    def the_rows_written_hold_the_whole_state(self) -> None:
        desk = self.desk
        inputs, outputs = self.stored
        touched = snapshot.touched(desk.state, desk.inputs[inputs:], desk.log[outputs:])
        self.rows.write(desk.state, touched)
        self.stored = (len(desk.inputs), len(desk.log))
        whole = Rows.whole(desk.state)
        assert self.rows.conversations == whole.conversations
        assert self.rows.customers == whole.customers

    def teardown(self) -> None:
        if hasattr(self, "desk"):
            self._work_everything_down()
            # Assigned once, and again only after a transfer.
            assigned = Counter(
                o.conversation_id for o in of(self.desk.log, ev.ConversationAssigned)
            )
            moved = Counter(
                o.conversation_id for o in of(self.desk.log, ev.ConversationTransferred)
            )
            assert all(times <= 1 + moved[cid] for cid, times in assigned.items())
            # Once the after-contact work runs out, every slot is free again.
            self.desk.wait(60)
            assert not self.desk.state.wrapping
            assert all(not any(a.load.values()) for a in self.desk.state.agents.values())

    def _work_everything_down(self) -> None:
        """Staff up with every skill on every channel and answer everything: all must close."""
        desk = self.desk
        for n in range(len(desk.state.agents)):
            desk.agent(
                f"agent{n}", skills=dict.fromkeys(SKILLS, 5), capacity=dict.fromkeys(CHANNELS, 3)
            )
        for _ in range(200):
            if not any(c.is_open for c in desk.state.conversations.values()):
                return
            for n in range(len(desk.state.agents)):
                desk.status(f"agent{n}", ev.AgentStatus.AVAILABLE)
            for conversation in list(desk.state.conversations.values()):
                if conversation.stage is Stage.BOT:
                    desk.send(ev.BotResolved(conversation_id=conversation.conversation_id))
                if conversation.stage is Stage.OFFERED and conversation.offer:
                    offer = conversation.offer
                    desk.send(
                        ev.OfferAccepted(
                            offer_id=offer.offer_id,
                            conversation_id=conversation.conversation_id,
                            agent_id=offer.agent_id,
                        )
                    )
                if conversation.stage is Stage.ASSIGNED:
                    desk.close(conversation.conversation_id)
            desk.wait(61)  # past any re-offer delay
        stuck = {c.conversation_id: c.stage for c in desk.state.conversations.values() if c.is_open}
        raise AssertionError(f"conversations never closed: {stuck}")


RouterMachine.TestCase.settings = settings(max_examples=400, stateful_step_count=50, deadline=None)
test_router_invariants = RouterMachine.TestCase


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(st.sampled_from(["arrive", "serve", "tick"]), max_size=60))
def test_fifo_within_equal_priority(steps: list[str]) -> None:
    """With equal priority, conversations are first offered in the order they arrived."""
    desk = Desk()
    desk.queue("general")
    desk.rules()
    desk.agent("ana", capacity={ev.Channel.CHAT: 2})
    desk.agent("ben", capacity={ev.Channel.CHAT: 1})
    arrived: list[str] = []
    for step in steps:
        if step == "arrive":
            out = desk.customer_writes("My card was charged twice", customer=f"c{len(arrived)}")
            arrived += [o.conversation_id for o in of(out, ev.ConversationOpened)]
        elif step == "serve":
            for conversation in list(desk.state.conversations.values()):
                if conversation.offer:
                    desk.accept(
                        ev.OfferCreated(
                            offer_id=conversation.offer.offer_id,
                            conversation_id=conversation.conversation_id,
                            agent_id=conversation.offer.agent_id,
                            queue_id="general",
                            expires_at=conversation.offer.expires_at,
                        )
                    )
                elif conversation.stage is Stage.ASSIGNED:
                    desk.close(conversation.conversation_id)
                    break
        else:
            desk.wait(5)
    first_offers = list(dict.fromkeys(o.conversation_id for o in of(desk.log, ev.OfferCreated)))
    assert first_offers == arrived[: len(first_offers)]
