"""A stored routing state comes back as it was, and routes on the same way."""

from shared import events as ev
from tests.unit.router.desk import Desk, of, only
from tests.unit.router.rows import Rows
from tests.unit.router.test_routing_rules import COMPLEX, desk_with


def busy_desk() -> Desk:
    desk = desk_with("ana", "ben", relax_after_s=(30,), wrap_up_s=45)
    desk.agent("chen", capacity={ev.Channel.EMAIL: 1})
    desk.accept(only(desk.customer_writes(COMPLEX, customer="c1", thread="t1"), ev.OfferCreated))
    desk.customer_writes(COMPLEX, customer="c2", thread="t2")
    for n in range(8):
        desk.customer_writes(COMPLEX, customer=f"w{n}", tier="vip" if n % 3 == 0 else None)
    desk.send(
        ev.MessageReceived(
            channel=ev.Channel.EMAIL,
            provider="mime",
            provider_message_id="<m1@x>",
            thread_key="<m1@x>",
            customer=ev.Customer(id="e@x"),
            text=COMPLEX,
        )
    )
    return desk


def wrapping_up(desk: Desk) -> Desk:
    """The desk with its assigned conversation closed: its agent in wrap-up for 45 s."""
    assigned = only(desk.log, ev.ConversationAssigned)
    desk.close(assigned.conversation_id, assigned.agent_id)
    return desk


def test_a_restored_state_equals_the_stored_one() -> None:
    desk = wrapping_up(busy_desk())
    restored = Rows.whole(desk.state).load("acme")

    assert restored.agents == desk.state.agents
    assert restored.wrapping == desk.state.wrapping != {}
    assert restored.conversations == desk.state.conversations
    assert restored.threads == desk.state.threads
    assert restored.offers == desk.state.offers
    assert restored.email_ids == desk.state.email_ids
    assert restored.last_agent == desk.state.last_agent
    assert restored.contacts == desk.state.contacts
    assert restored.closed_messages == desk.state.closed_messages != {}
    for queue_id, queue in desk.state.queues.items():
        assert restored.queues[queue_id].waiting() == queue.waiting()
        assert restored.queues[queue_id].config == queue.config


def test_a_restored_router_decides_exactly_as_the_original() -> None:
    original = wrapping_up(busy_desk())
    copy = wrapping_up(busy_desk())
    copy.state = Rows.whole(copy.state).load("acme")

    for desk in (original, copy):
        desk.wait(31)
        for conversation in list(desk.state.conversations.values()):
            if conversation.offer:
                desk.send(
                    ev.OfferDeclined(
                        offer_id=conversation.offer.offer_id,
                        conversation_id=conversation.conversation_id,
                        agent_id=conversation.offer.agent_id,
                    )
                )
        desk.customer_writes("reply by email", thread="<m2@x>")
        desk.wait(61)

    assert [o.data for o in original.log] == [o.data for o in copy.log]
    assert of(original.log, ev.OfferExpired)
    assert of(original.log, ev.WrapUpEnded)
