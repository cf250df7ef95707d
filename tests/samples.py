"""One valid example of every event payload, for contract tests."""

from datetime import UTC, datetime

from shared import events as ev

AT = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
CUSTOMER = ev.Customer(id="+34600111222", name="Lucía", phone="+34600111222", tier="vip")
ATTACHMENT = ev.Attachment(name="receipt.pdf", content_type="application/pdf", size_bytes=48213)

SAMPLES: dict[type[ev.Payload], ev.Payload] = {
    sample.__class__: sample
    for sample in (
        ev.MessageReceived(
            channel=ev.Channel.WHATSAPP,
            provider="meta",
            provider_message_id="wamid.HBgL",
            thread_key="+34600111222",
            customer=CUSTOMER,
            text="¿Por qué me habéis cobrado dos veces? 😡",
            attachments=(ATTACHMENT,),
            language_hint="es",
        ),
        ev.CustomerLeft(channel=ev.Channel.CHAT, provider="webchat", thread_key="session-9"),
        ev.AgentStatusChanged(agent_id="ana", status=ev.AgentStatus.AVAILABLE),
        ev.OfferAccepted(offer_id="o1", conversation_id="c1", agent_id="ana"),
        ev.OfferDeclined(offer_id="o1", conversation_id="c1", agent_id="ana", reason="busy"),
        ev.ReplySent(conversation_id="c1", sender=ev.Sender.AGENT, agent_id="ana", text="Hola"),
        ev.ConversationTransferRequested(conversation_id="c1", to_queue_id="billing"),
        ev.ConversationCloseRequested(conversation_id="c1", disposition="resolved"),
        ev.BotEscalated(
            conversation_id="c1",
            reason="asked for a person",
            transcript=(ev.TranscriptLine(sender=ev.Sender.CUSTOMER, text="agente", at=AT),),
        ),
        ev.BotResolved(conversation_id="c1"),
        ev.WrapUpEndRequested(agent_id="ana", conversation_id="c1"),
        ev.SurveyAnswered(conversation_id="c1", survey="nps", score=9),
        ev.AgentUpserted(
            agent_id="ana",
            name="Ana García",
            skills={"billing": 4},
            languages=("es", "en"),
            capacity={ev.Channel.CHAT: 3, ev.Channel.EMAIL: 5},
        ),
        ev.QueueUpserted(queue_id="billing", name="Billing", required_skills={"billing": 1}),
        ev.RoutingRulesChanged(
            default_queue_id="general",
            rules=(ev.RoutingRule(intent="invoice", queue_id="billing"),),
        ),
        ev.ConversationOpened(
            conversation_id="c1",
            channel=ev.Channel.WHATSAPP,
            provider="meta",
            thread_key="+34600111222",
            customer=CUSTOMER,
        ),
        ev.ComplexityScored(
            conversation_id="c1",
            score=0.82,
            tier="high",
            route="agent",
            intents=("chargeback",),
            language="es",
            reasons=("mentions a chargeback", "angry tone"),
        ),
        ev.ConversationQueued(conversation_id="c1", queue_id="billing", priority=1),
        ev.OfferCreated(
            offer_id="o1", conversation_id="c1", agent_id="ana", queue_id="billing", expires_at=AT
        ),
        ev.OfferExpired(offer_id="o1", conversation_id="c1", agent_id="ana"),
        ev.OfferWithdrawn(
            offer_id="o1", conversation_id="c1", agent_id="ana", reason="the agent is away"
        ),
        ev.ConversationAssigned(conversation_id="c1", agent_id="ana", queue_id="billing"),
        ev.HandedToBot(conversation_id="c1"),
        ev.MessageAppended(
            conversation_id="c1", message_id="m1", sender=ev.Sender.CUSTOMER, text="¿Hola?"
        ),
        ev.ConversationTransferred(conversation_id="c1", from_agent_id="ana", to_queue_id="fraud"),
        ev.TransferRefused(
            conversation_id="c1", to_agent_id="ben", reason="agent ben is not available"
        ),
        ev.ConversationClosed(conversation_id="c1", disposition="resolved", closed_by="ana"),
        ev.ConversationAbandoned(conversation_id="c1", waited_s=312.5),
        ev.SurveySent(conversation_id="c1", survey="csat"),
        ev.WrapUpStarted(agent_id="ana", conversation_id="c1", channel=ev.Channel.CHAT, until=AT),
        ev.WrapUpEnded(agent_id="ana", conversation_id="c1", reason="timeout"),
        ev.DeliverMessage(
            conversation_id="c1",
            channel=ev.Channel.WHATSAPP,
            provider="meta",
            recipient="+34600111222",
            thread_key="+34600111222",
            text="Ya lo hemos corregido.",
        ),
        ev.DeadLettered(
            reason="invalid event", topic=ev.INBOUND, partition=0, offset=7, payload="{"
        ),
    )
}


def chat_message(
    n: int, text: str = "I was charged twice and want a refund now"
) -> ev.MessageReceived:
    """The n-th visitor's first web chat message."""
    return ev.MessageReceived(
        channel=ev.Channel.CHAT,
        provider="webchat",
        provider_message_id=f"m{n}",
        thread_key=f"session-{n}",
        customer=ev.Customer(id=f"visitor-{n}"),
        text=text,
    )
