"""One test per routing rule, on the pure core with a fake clock."""

from __future__ import annotations

from datetime import time, timedelta

from shared import events as ev
from tests.unit.router.desk import Desk, of, only

SIMPLE = "What are your opening hours on Saturday?"
COMPLEX = "I want to dispute the charge, this is FRAUD and I will call my lawyer!!"


def desk_with(*agents: str, **queue_settings: object) -> Desk:
    desk = Desk()
    desk.queue("general", **queue_settings)
    desk.rules()
    for agent in agents:
        desk.agent(agent)
    return desk


def test_a_new_complex_message_opens_scores_queues_and_offers() -> None:
    desk = desk_with("ana")
    out = desk.customer_writes(COMPLEX)

    kinds = [type(o.data).__name__ for o in out]
    assert kinds == [
        "ConversationOpened",
        "ComplexityScored",
        "MessageAppended",
        "ConversationQueued",
        "OfferCreated",
    ]
    scored = only(out, ev.ComplexityScored)
    assert scored.route == "agent" and scored.tier == "high"
    assert "mentions a chargeback" in scored.reasons
    offer = only(out, ev.OfferCreated)
    assert (offer.agent_id, offer.queue_id) == ("ana", "general")
    assert (offer.expires_at - desk.now).total_seconds() == 30


def test_a_simple_message_on_a_bot_channel_goes_to_the_bot() -> None:
    desk = desk_with("ana")
    desk.rules(bot_channels=(ev.Channel.CHAT,))
    out = desk.customer_writes(SIMPLE)

    assert only(out, ev.ComplexityScored).route == "bot"
    assert of(out, ev.HandedToBot) and not of(out, ev.ConversationQueued)
    assert not of(out, ev.OfferCreated)


def test_a_simple_message_without_a_bot_on_its_channel_goes_to_a_person() -> None:
    desk = desk_with("ana")
    desk.rules(bot_channels=(ev.Channel.WHATSAPP,))
    out = desk.customer_writes(SIMPLE, channel=ev.Channel.CHAT)
    assert only(out, ev.ComplexityScored).route == "agent"
    assert only(out, ev.OfferCreated).agent_id == "ana"


def test_a_message_for_an_assigned_conversation_goes_to_its_agent_and_never_queues() -> None:
    desk = desk_with("ana", "ben")
    desk.accept(only(desk.customer_writes(COMPLEX, thread="t1"), ev.OfferCreated))

    out = desk.customer_writes("Any news?", thread="t1")

    appended = only(out, ev.MessageAppended)
    assert appended.sender is ev.Sender.CUSTOMER
    assert [type(o.data) for o in out] == [ev.MessageAppended]


# A message a provider delivers twice (its retry of a webhook whose answer was lost).
DELIVERED_TWICE = ev.MessageReceived(
    channel=ev.Channel.CHAT,
    provider="test",
    provider_message_id="same",
    thread_key="t1",
    customer=ev.Customer(id="c1"),
    text=COMPLEX,
)


def test_a_providers_retry_of_the_same_message_is_routed_once() -> None:
    desk = desk_with("ana")
    assert desk.send(DELIVERED_TWICE)
    assert desk.send(DELIVERED_TWICE) == []


def test_a_retry_that_comes_after_the_close_opens_no_second_conversation() -> None:
    # The channels publish a message before they record it; when the record fails (the
    # process killed, the database restarting) the provider's retry is published again.
    desk = desk_with("ana")
    offer = only(desk.send(DELIVERED_TWICE), ev.OfferCreated)
    desk.accept(offer)
    desk.close(offer.conversation_id, "ana")

    assert desk.send(DELIVERED_TWICE) == []
    later = desk.customer_writes("One more question", thread="t1", customer="c1")
    assert only(later, ev.ConversationOpened).thread_key == "t1"
    assert desk.send(DELIVERED_TWICE) == []  # nor into the conversation open now


def test_an_email_reply_joins_its_conversation_by_references() -> None:
    desk = desk_with("ana")
    first = desk.send(
        ev.MessageReceived(
            channel=ev.Channel.EMAIL,
            provider="mime",
            provider_message_id="<a1@mail.example>",
            thread_key="<a1@mail.example>",
            customer=ev.Customer(id="lucia@example.com"),
            text=COMPLEX,
        )
    )
    reply = desk.send(
        ev.MessageReceived(
            channel=ev.Channel.EMAIL,
            provider="mime",
            provider_message_id="<a2@mail.example>",
            thread_key="<a2@mail.example>",
            customer=ev.Customer(id="lucia@example.com"),
            text="Re: still waiting",
            references=("<a1@mail.example>",),
        )
    )
    opened = only(first, ev.ConversationOpened).conversation_id
    assert only(reply, ev.MessageAppended).conversation_id == opened
    assert not of(reply, ev.ConversationOpened)


def test_the_rules_pick_the_queue_by_intent_language_and_tier() -> None:
    desk = Desk()
    for queue in ("general", "fraud", "spanish", "vip"):
        desk.queue(queue)
    desk.rules(
        rules=(
            ev.RoutingRule(intent="fraud", queue_id="fraud"),
            ev.RoutingRule(tier="vip", queue_id="vip"),
            ev.RoutingRule(language="es", queue_id="spanish"),
        )
    )
    queued = [
        only(desk.customer_writes(text, tier=tier), ev.ConversationQueued).queue_id
        for text, tier in (
            ("Someone made an unauthorized payment with my card", None),
            ("I need help with my account", "vip"),
            ("Hola, tengo un problema con mi cuenta y no puedo pagar", None),
            ("I need help with my account", None),
        )
    ]
    assert queued == ["fraud", "vip", "spanish", "general"]


def test_a_freed_agent_with_two_skills_takes_the_longest_wait_of_either_queue() -> None:
    desk = Desk()
    desk.queue("a-fraud", required_skills={"fraud": 1})
    desk.queue("b-general", required_skills={"general": 1})
    desk.rules(
        default_queue_id="b-general", rules=(ev.RoutingRule(intent="fraud", queue_id="a-fraud"),)
    )
    desk.agent("ana", skills={"fraud": 1, "general": 1}, capacity={ev.Channel.CHAT: 1})
    held = only(desk.customer_writes("I need help with my account"), ev.OfferCreated)
    desk.accept(held)
    general = only(desk.customer_writes("I need help with my account"), ev.ConversationQueued)
    desk.wait(30)
    desk.customer_writes("Someone made an unauthorized payment with my card")

    out = desk.close(held.conversation_id, "ana")

    # Not the fraud queue first because of its name: the general customer waited longer.
    assert only(out, ev.OfferCreated).conversation_id == general.conversation_id


def test_the_customers_previous_agent_gets_the_conversation_even_if_busier() -> None:
    desk = desk_with("ana", "ben")
    first = only(desk.customer_writes(COMPLEX, customer="lucia"), ev.OfferCreated)
    desk.accept(first)
    desk.close(first.conversation_id, first.agent_id)
    desk.accept(only(desk.customer_writes(COMPLEX, customer="other"), ev.OfferCreated))

    again = only(desk.customer_writes(COMPLEX, customer="lucia"), ev.OfferCreated)
    assert again.agent_id == first.agent_id


def test_stickiness_ends_with_its_window() -> None:
    desk = desk_with("ana", "ben")
    desk.rules(sticky_window_s=60)
    first = only(desk.customer_writes(COMPLEX, customer="lucia"), ev.OfferCreated)
    desk.accept(first)
    desk.close(first.conversation_id, first.agent_id)
    desk.accept(only(desk.customer_writes(COMPLEX, customer="other"), ev.OfferCreated))
    desk.wait(61)

    again = only(desk.customer_writes(COMPLEX, customer="lucia"), ev.OfferCreated)
    assert again.agent_id != first.agent_id


def test_the_least_occupied_agent_then_the_longest_idle_gets_the_offer() -> None:
    desk = desk_with()
    desk.agent("ana")
    desk.wait(10)
    desk.agent("ben")
    # Both idle with nothing: Ana has been idle longer.
    first = only(desk.customer_writes(COMPLEX, customer="c1"), ev.OfferCreated)
    assert first.agent_id == "ana"
    # Now Ana holds one: Ben is less occupied.
    assert only(desk.customer_writes(COMPLEX, customer="c2"), ev.OfferCreated).agent_id == "ben"


def test_no_agent_is_offered_more_than_their_capacity_for_the_channel() -> None:
    desk = desk_with()
    desk.agent("ana", capacity={ev.Channel.CHAT: 1, ev.Channel.EMAIL: 2})
    assert of(desk.customer_writes(COMPLEX, channel=ev.Channel.CHAT), ev.OfferCreated)
    assert not of(desk.customer_writes(COMPLEX, channel=ev.Channel.CHAT), ev.OfferCreated)
    assert of(desk.customer_writes(COMPLEX, channel=ev.Channel.EMAIL), ev.OfferCreated)


def test_equal_priority_leaves_in_arrival_order() -> None:
    desk = desk_with()
    ids = [
        only(desk.customer_writes(COMPLEX, customer=f"c{i}"), ev.ConversationOpened).conversation_id
        for i in range(3)
    ]
    offered = []
    desk.agent("ana", capacity={ev.Channel.CHAT: 1})
    for _ in ids:
        offer = of(desk.log, ev.OfferCreated)[-1]
        offered.append(offer.conversation_id)
        desk.accept(offer)
        desk.close(offer.conversation_id, "ana")
    assert offered == ids


def test_higher_priority_leaves_first_but_a_long_wait_ages_past_it() -> None:
    desk = desk_with(aging_s=60)
    desk.rules(vip_priority_boost=1)
    old = only(desk.customer_writes(COMPLEX, customer="c1"), ev.ConversationOpened)
    desk.wait(30)
    vip = only(desk.customer_writes(COMPLEX, customer="c2", tier="vip"), ev.ConversationOpened)
    desk.wait(45)
    newest = only(desk.customer_writes(COMPLEX, customer="c3", tier="vip"), ev.ConversationOpened)

    desk.agent("ana", capacity={ev.Channel.CHAT: 1})
    order = []
    for _ in range(3):
        offer = of(desk.log, ev.OfferCreated)[-1]
        order.append(offer.conversation_id)
        desk.accept(offer)
        desk.close(offer.conversation_id, "ana")
    # The VIP that waited 45 s ranks as 105 s; the plain one waited 75 s; the new VIP 60 s.
    assert order == [vip.conversation_id, old.conversation_id, newest.conversation_id]


def test_skill_requirements_relax_ring_by_ring_while_a_conversation_waits() -> None:
    desk = desk_with(required_skills={"fraud": 4}, relax_after_s=(30, 90))
    desk.agent("junior", skills={"fraud": 3})
    desk.agent("trainee", skills={})
    desk.customer_writes(COMPLEX)
    assert not of(desk.log, ev.OfferCreated)

    assert only(desk.wait(30), ev.OfferCreated).agent_id == "junior"


def test_past_the_last_ring_anyone_serving_the_channel_qualifies() -> None:
    desk = desk_with(required_skills={"fraud": 4}, relax_after_s=(30,))
    desk.agent("trainee", skills={}, languages=("fr",))
    desk.customer_writes(COMPLEX)
    assert only(desk.wait(30), ev.OfferCreated).agent_id == "trainee"


def test_a_decline_goes_to_the_next_agent_and_back_only_after_everyone_passed_a_while() -> None:
    desk = desk_with("ana", "ben")
    offer = only(desk.customer_writes(COMPLEX), ev.OfferCreated)

    out = desk.decline(offer)

    assert only(out, ev.OfferDeclined).agent_id == offer.agent_id
    following = only(out, ev.OfferCreated)
    assert following.agent_id != offer.agent_id
    assert following.offer_id != offer.offer_id
    assert not of(desk.decline(following), ev.OfferCreated)  # both declined just now
    assert not of(desk.wait(59), ev.OfferCreated)
    assert only(desk.wait(1), ev.OfferCreated).agent_id == offer.agent_id


def test_an_expired_offer_goes_to_the_next_agent() -> None:
    desk = desk_with("ana", "ben")
    offer = only(desk.customer_writes(COMPLEX), ev.OfferCreated)
    assert desk.wait(29) == []

    out = desk.wait(1)
    assert only(out, ev.OfferExpired).offer_id == offer.offer_id
    assert only(out, ev.OfferCreated).agent_id != offer.agent_id


def test_accepting_an_expired_offer_assigns_nothing() -> None:
    desk = desk_with("ana", "ben")
    offer = only(desk.customer_writes(COMPLEX), ev.OfferCreated)
    desk.now = desk.now.replace(second=31)
    out = desk.accept(offer)
    assert not of(out, ev.ConversationAssigned)
    assert only(out, ev.OfferExpired).offer_id == offer.offer_id


def test_an_agent_who_lets_offers_expire_in_a_row_is_set_away() -> None:
    desk = desk_with("ana")
    desk.rules(max_missed_offers=2)
    desk.customer_writes(COMPLEX, customer="c1")
    desk.wait(30)  # first miss; ana is the only agent, so c1 waits for someone else
    desk.customer_writes(COMPLEX, customer="c2")
    out = desk.wait(30)

    status = only(out, ev.AgentStatusChanged)
    assert (status.agent_id, status.status) == ("ana", ev.AgentStatus.AWAY)
    assert status.reason == "missed 2 offers in a row"
    assert desk.state.agents["ana"].load == {ev.Channel.CHAT: 0}


def test_an_accept_resets_the_count_of_missed_offers() -> None:
    desk = desk_with("ana")
    desk.rules(max_missed_offers=2)
    desk.customer_writes(COMPLEX, customer="c1")
    desk.wait(30)
    desk.accept(only(desk.customer_writes(COMPLEX, customer="c2"), ev.OfferCreated))
    assert desk.state.agents["ana"].missed_offers == 0


def test_an_auto_accept_queue_assigns_without_an_offer() -> None:
    desk = desk_with("ana", auto_accept=True)
    out = desk.customer_writes(COMPLEX)
    assert only(out, ev.ConversationAssigned).agent_id == "ana"
    assert not of(out, ev.OfferCreated)


def test_a_transfer_to_a_queue_frees_the_agent_and_queues_it_there() -> None:
    desk = desk_with("ana")
    desk.queue("fraud", required_skills={"fraud": 1})
    offer = only(desk.customer_writes(COMPLEX), ev.OfferCreated)
    desk.accept(offer)
    desk.agent("fiona", skills={"fraud": 5})

    out = desk.send(
        ev.ConversationTransferRequested(
            conversation_id=offer.conversation_id,
            by_agent_id="ana",
            to_queue_id="fraud",
            note="card used abroad, customer is at home",
        )
    )

    transferred = only(out, ev.ConversationTransferred)
    assert (transferred.from_agent_id, transferred.to_queue_id) == ("ana", "fraud")
    assert transferred.note == "card used abroad, customer is at home"
    assert only(out, ev.ConversationQueued).queue_id == "fraud"
    assert only(out, ev.OfferCreated).agent_id == "fiona"
    assert desk.state.agents["ana"].load[ev.Channel.CHAT] == 0


def test_a_transfer_to_an_agent_offers_it_to_that_agent() -> None:
    desk = desk_with("ana", "ben")
    offer = only(desk.customer_writes(COMPLEX), ev.OfferCreated)
    desk.accept(offer)
    other = "ben" if offer.agent_id == "ana" else "ana"

    out = desk.send(
        ev.ConversationTransferRequested(conversation_id=offer.conversation_id, to_agent_id=other)
    )
    assert only(out, ev.OfferCreated).agent_id == other


def test_a_transfer_that_cannot_happen_is_refused_and_the_conversation_stays() -> None:
    desk = desk_with("ana", "ben")
    desk.agent("carla", available=False)
    offer = only(desk.customer_writes(COMPLEX), ev.OfferCreated)
    desk.accept(offer)
    holder = offer.agent_id
    other = "ben" if holder == "ana" else "ana"
    cid = offer.conversation_id

    to_offline = desk.send(
        ev.ConversationTransferRequested(
            conversation_id=cid, by_agent_id=holder, to_agent_id="carla"
        )
    )
    by_stranger = desk.send(
        ev.ConversationTransferRequested(conversation_id=cid, by_agent_id=other, to_queue_id="x")
    )
    unknown = desk.send(ev.ConversationTransferRequested(conversation_id="nope", to_queue_id="x"))

    assert only(to_offline, ev.TransferRefused).reason == "agent carla is not available"
    assert (
        only(by_stranger, ev.TransferRefused).reason
        == f"agent {other} does not hold the conversation"
    )
    assert only(unknown, ev.TransferRefused).reason == "the conversation is not open"
    assert not of(desk.log, ev.ConversationTransferred)
    assert desk.state.conversations[cid].agent_id == holder


def test_every_change_of_an_agent_status_is_published_for_the_desk() -> None:
    desk = desk_with()
    desk.agent("ana", available=False)
    became_available = desk.status("ana", ev.AgentStatus.AVAILABLE)
    again = desk.status("ana", ev.AgentStatus.AVAILABLE)
    published = only(became_available, ev.AgentStatusChanged)
    assert (published.status, published.reason) == (ev.AgentStatus.AVAILABLE, None)
    assert not again


def test_an_agent_away_says_why_and_a_new_reason_is_published_too() -> None:
    desk = desk_with("ana")
    away = ev.AgentStatusChanged(agent_id="ana", status=ev.AgentStatus.AWAY, reason="lunch")
    went = only(desk.send(away), ev.AgentStatusChanged)
    meeting = only(desk.send(away.model_copy(update={"reason": "meeting"})), ev.AgentStatusChanged)

    assert (went.status, went.reason) == (ev.AgentStatus.AWAY, "lunch")
    assert (meeting.status, meeting.reason) == (ev.AgentStatus.AWAY, "meeting")
    assert desk.state.agents["ana"].status is ev.AgentStatus.AWAY


def ana_holds_her_one_chat(**queue_settings: object) -> tuple[Desk, ev.OfferCreated]:
    """Ana takes one chat at a time and holds one (the offer she accepted)."""
    desk = desk_with(**queue_settings)
    desk.agent("ana", capacity={ev.Channel.CHAT: 1})
    first = only(desk.customer_writes(COMPLEX, customer="c1"), ev.OfferCreated)
    desk.accept(first)
    return desk, first


def test_closing_frees_capacity_for_the_next_waiting_conversation() -> None:
    desk, first = ana_holds_her_one_chat()
    waiting = only(desk.customer_writes(COMPLEX, customer="c2"), ev.ConversationOpened)

    out = desk.close(first.conversation_id, "ana")
    assert only(out, ev.ConversationClosed).disposition == "resolved"
    assert only(out, ev.OfferCreated).conversation_id == waiting.conversation_id


def test_after_a_close_the_slot_stays_taken_for_the_queues_wrap_up_time() -> None:
    desk, first = ana_holds_her_one_chat(wrap_up_s=60)
    waiting = only(desk.customer_writes(COMPLEX, customer="c2"), ev.ConversationOpened)

    out = desk.close(first.conversation_id, "ana")
    started = only(out, ev.WrapUpStarted)
    assert (started.agent_id, started.conversation_id) == ("ana", first.conversation_id)
    assert started.until == desk.now + timedelta(seconds=60)
    assert of(out, ev.OfferCreated) == []  # the next customer waits for the wrap-up
    assert of(desk.wait(59), ev.OfferCreated) == []

    out = desk.wait(1)
    assert only(out, ev.WrapUpEnded).reason == "timeout"
    assert only(out, ev.OfferCreated).conversation_id == waiting.conversation_id


def test_an_agent_who_ends_the_wrap_up_early_takes_the_next_conversation_at_once() -> None:
    desk, first = ana_holds_her_one_chat(wrap_up_s=300)
    desk.close(first.conversation_id, "ana")
    waiting = only(desk.customer_writes(COMPLEX, customer="c2"), ev.ConversationOpened)
    # Transfers count the wrap-up as a taken slot too.
    transfer = ev.ConversationTransferRequested(
        conversation_id=waiting.conversation_id, to_agent_id="ana"
    )
    refused = only(desk.send(transfer), ev.TransferRefused)
    assert refused.reason == "agent ana has no free chat capacity"

    done = ev.WrapUpEndRequested(agent_id="ana", conversation_id=first.conversation_id)
    out = desk.send(done)
    assert only(out, ev.WrapUpEnded).reason == "done"
    assert only(out, ev.OfferCreated).conversation_id == waiting.conversation_id
    assert desk.send(done) == []  # once: a second click, or the timeout, changes nothing
    assert of(desk.wait(300), ev.WrapUpEnded) == []


def test_without_wrap_up_time_or_an_agent_a_close_starts_no_wrap_up() -> None:
    desk = desk_with("ana")
    offer = only(desk.customer_writes(COMPLEX), ev.OfferCreated)
    desk.accept(offer)
    assert of(desk.close(offer.conversation_id, "ana"), ev.WrapUpStarted) == []

    desk = desk_with(wrap_up_s=60)  # waiting, no agent: nobody has after-contact work
    opened = only(desk.customer_writes(COMPLEX), ev.ConversationOpened)
    assert of(desk.close(opened.conversation_id), ev.WrapUpStarted) == []


def test_an_agent_going_away_hands_a_pending_offer_to_someone_else() -> None:
    desk = desk_with("ana", "ben")
    offer = only(desk.customer_writes(COMPLEX), ev.OfferCreated)
    out = desk.status(offer.agent_id, ev.AgentStatus.AWAY)
    assert only(out, ev.OfferCreated).agent_id != offer.agent_id
    withdrawn = only(out, ev.OfferWithdrawn)  # the first agent's desk drops the offer
    assert (withdrawn.offer_id, withdrawn.reason) == (offer.offer_id, "the agent is away")


def test_a_customer_who_leaves_while_offered_withdraws_the_offer() -> None:
    desk = desk_with("ana")
    offer = only(desk.customer_writes(COMPLEX, thread="t1"), ev.OfferCreated)

    out = desk.send(ev.CustomerLeft(channel=ev.Channel.CHAT, provider="test", thread_key="t1"))

    assert [type(e.data) for e in out] == [ev.OfferWithdrawn, ev.ConversationAbandoned]
    assert only(out, ev.OfferWithdrawn).offer_id == offer.offer_id
    assert desk.state.agents["ana"].load == {ev.Channel.CHAT: 0}


def test_a_bot_escalation_queues_with_a_boost_and_the_transcript_and_never_returns() -> None:
    desk = desk_with()
    desk.rules(bot_channels=(ev.Channel.CHAT,), escalation_priority_boost=2)
    opened = only(desk.customer_writes(SIMPLE, thread="t1"), ev.ConversationOpened)
    transcript = (ev.TranscriptLine(sender=ev.Sender.BOT, text="We open at 9", at=desk.now),)

    out = desk.send(
        ev.BotEscalated(
            conversation_id=opened.conversation_id, reason="customer said no", transcript=transcript
        )
    )

    queued = only(out, ev.ConversationQueued)
    assert (queued.priority, queued.reason) == (2, "bot escalated: customer said no")
    conversation = desk.state.conversations[opened.conversation_id]
    assert conversation.bot_transcript == transcript
    desk.agent("ana")
    assert only(desk.log[-1:], ev.OfferCreated).conversation_id == opened.conversation_id
    out = desk.customer_writes("thanks, waiting", thread="t1")
    assert not of(out, ev.HandedToBot)


def test_a_bot_resolution_closes_the_conversation() -> None:
    desk = desk_with()
    desk.rules(bot_channels=(ev.Channel.CHAT,))
    opened = only(desk.customer_writes(SIMPLE), ev.ConversationOpened)
    out = desk.send(ev.BotResolved(conversation_id=opened.conversation_id))
    assert only(out, ev.ConversationClosed).disposition == "resolved_by_bot"


def test_only_the_agent_holding_a_conversation_can_reply_and_the_reply_is_delivered() -> None:
    desk = desk_with("ana", "ben")
    offer = only(desk.customer_writes(COMPLEX, customer="+34600"), ev.OfferCreated)
    desk.accept(offer)
    other = "ben" if offer.agent_id == "ana" else "ana"

    def reply(agent: str) -> list[object]:
        return [
            o.data
            for o in desk.send(
                ev.ReplySent(
                    conversation_id=offer.conversation_id,
                    sender=ev.Sender.AGENT,
                    agent_id=agent,
                    text="Ya está corregido",
                )
            )
        ]

    assert reply(other) == []
    appended, delivery = reply(offer.agent_id)
    assert isinstance(appended, ev.MessageAppended) and appended.sender is ev.Sender.AGENT
    assert isinstance(delivery, ev.DeliverMessage)
    assert (delivery.recipient, delivery.text) == ("+34600", "Ya está corregido")
    # One id for both: a reply decided twice is delivered once (services/channels/outbound).
    assert delivery.message_id == appended.message_id


def test_a_customer_who_leaves_while_waiting_abandons_and_frees_the_offer() -> None:
    desk = desk_with()
    desk.agent("ana", capacity={ev.Channel.CHAT: 1})
    desk.accept(only(desk.customer_writes(COMPLEX, customer="c1"), ev.OfferCreated))
    desk.customer_writes(COMPLEX, thread="t-waiting", customer="c2")
    desk.wait(42)

    out = desk.send(
        ev.CustomerLeft(channel=ev.Channel.CHAT, provider="test", thread_key="t-waiting")
    )

    assert only(out, ev.ConversationAbandoned).waited_s == 42
    assert all(c.customer.id == "c1" for c in desk.state.conversations.values())
    # Leaving a conversation an agent holds does not abandon it.
    assert (
        desk.send(ev.CustomerLeft(channel=ev.Channel.CHAT, provider="test", thread_key="x")) == []
    )


def test_outside_business_hours_a_customer_gets_the_auto_reply_and_waits_for_the_opening() -> None:
    # Tuesday 09:00 UTC is 10:00 in Madrid; the desk opens at 11:00.
    desk = desk_with(
        "ana",
        business_hours=(ev.OpeningHours(days=(0, 1, 2, 3, 4), opens=time(11), closes=time(19)),),
        timezone="Europe/Madrid",
        closed_message="We open at 11:00 (Madrid time).",
    )

    out = desk.customer_writes(COMPLEX)

    assert only(out, ev.DeliverMessage).text == "We open at 11:00 (Madrid time)."
    assert of(out, ev.ConversationQueued) and not of(out, ev.OfferCreated)
    assert not of(desk.wait(3599), ev.OfferCreated)
    assert only(desk.wait(1), ev.OfferCreated).agent_id == "ana"


def test_outside_business_hours_the_bot_takes_even_a_hard_question() -> None:
    desk = desk_with(
        "ana", business_hours=(ev.OpeningHours(days=(5, 6), opens=time(0), closes=time(23)),)
    )
    desk.rules(bot_channels=(ev.Channel.CHAT,))
    out = desk.customer_writes(COMPLEX)
    assert only(out, ev.ComplexityScored).route == "bot"
    assert of(out, ev.HandedToBot)


def test_a_deactivated_agent_goes_offline_and_their_offer_moves_on() -> None:
    desk = desk_with("ana", "ben")
    offer = only(desk.customer_writes(COMPLEX), ev.OfferCreated)
    out = desk.send(ev.AgentUpserted(agent_id=offer.agent_id, name="Gone", active=False))
    status = only(out, ev.AgentStatusChanged)
    assert (status.status, status.reason) == (ev.AgentStatus.OFFLINE, "deactivated")
    assert only(out, ev.OfferCreated).agent_id != offer.agent_id


def test_a_status_that_arrives_before_the_agents_configuration_is_kept() -> None:
    desk = desk_with()
    desk.status("ana", ev.AgentStatus.AVAILABLE)
    desk.customer_writes(COMPLEX)
    out = desk.send(ev.AgentUpserted(agent_id="ana", name="Ana", capacity={ev.Channel.CHAT: 1}))
    assert only(out, ev.OfferCreated).agent_id == "ana"


def surveyed_desk() -> tuple[Desk, ev.OfferCreated]:
    desk = desk_with("ana", surveys=("csat", "nps"))
    offer = only(desk.customer_writes(COMPLEX, thread="t1"), ev.OfferCreated)
    desk.accept(offer)
    return desk, offer


def test_after_a_close_the_surveys_are_asked_and_answered_on_the_same_thread() -> None:
    desk, offer = surveyed_desk()
    closed = desk.close(offer.conversation_id, "ana")
    csat = desk.customer_writes("5 ⭐", thread="t1")
    nps = desk.customer_writes("un 9", thread="t1")
    later = desk.customer_writes("Hello again, another question", thread="t1")

    assert only(closed, ev.SurveySent).survey == "csat"
    assert only(closed, ev.DeliverMessage).text.startswith("How satisfied")
    assert (only(csat, ev.SurveyAnswered).survey, only(csat, ev.SurveyAnswered).score) == (
        "csat",
        5,
    )
    assert only(csat, ev.SurveySent).survey == "nps"
    assert (only(nps, ev.SurveyAnswered).survey, only(nps, ev.SurveyAnswered).score) == ("nps", 9)
    assert only(nps, ev.DeliverMessage).text == "Thank you for your answer!"
    assert not of(csat + nps, ev.ConversationOpened)
    assert only(later, ev.ConversationOpened).thread_key == "t1"


def test_a_reply_that_is_no_score_drops_the_survey_and_is_routed() -> None:
    desk, offer = surveyed_desk()
    desk.close(offer.conversation_id, "ana")
    out = desk.customer_writes("My order never arrived either!", thread="t1")
    assert not of(out, ev.SurveyAnswered)
    assert only(out, ev.ConversationOpened).thread_key == "t1"


def test_a_survey_expires_after_its_window() -> None:
    desk, offer = surveyed_desk()
    desk.close(offer.conversation_id, "ana")
    desk.wait(86_400)
    out = desk.customer_writes("5", thread="t1")
    assert not of(out, ev.SurveyAnswered) and of(out, ev.ConversationOpened)
    assert not desk.state.surveys
