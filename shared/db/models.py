"""Tables shared by the services. Each service owns its own tables; none reads another's."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    and_,
    false,
    func,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db.utc import UtcDateTime


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class OutboxRecord(Base):
    """An event written in the same transaction as the state that caused it.

    The relay publishes rows in id order and then deletes them, so an event
    reaches the bus if and only if its transaction committed.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    topic: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(Text)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class RouterTenant(Base):
    """The router's state of one tenant: agents, queues, rules and surveys (the open
    conversations and the customers are rows of their own, written when they change);
    `version` grows with every write, so a router that kept an older copy (another
    router wrote since) notices and reloads."""

    __tablename__ = "router_tenants"

    tenant: Mapped[str] = mapped_column(String(63), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RouterConversation(Base):
    """An open conversation of the router's state (a closed one leaves it)."""

    __tablename__ = "router_conversations"

    tenant: Mapped[str] = mapped_column(String(63), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RouterCustomer(Base):
    """What the router remembers of a customer: their last agent, their recent contacts."""

    __tablename__ = "router_customers"

    tenant: Mapped[str] = mapped_column(String(63), primary_key=True)
    customer_id: Mapped[str] = mapped_column(Text, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RouterOffset(Base):
    """The next input offset per partition whose effects are in the router's tables."""

    __tablename__ = "router_offsets"

    grp: Mapped[str] = mapped_column(String(100), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger)


class ChannelMessage(Base):
    """A provider message the channels service accepted (its redeliveries are not)."""

    __tablename__ = "channel_messages"

    provider: Mapped[str] = mapped_column(String(50), primary_key=True)
    provider_message_id: Mapped[str] = mapped_column(Text, primary_key=True)
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ChannelDelivery(Base):
    """A message the channels service delivered to a customer (asked again, it is not)."""

    __tablename__ = "channel_deliveries"

    delivery_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    provider: Mapped[str] = mapped_column(String(50))
    delivered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ChatSession(Base):
    """A web chat visitor's session; only a hash of its bearer token is kept."""

    __tablename__ = "chat_sessions"
    __table_args__ = (Index("ix_chat_sessions_present", "left_at", "last_seen_at"),)

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    token_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set by the visitor's first message, then by the widget's polls: a visitor not seen
    # for OMNIROUTE_CHAT_IDLE_S has left (`left_at`), until they write again.
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ChatMessage(Base):
    """A line of a web chat transcript, as the widget shows it."""

    __tablename__ = "chat_messages"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    author: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiKey(Base):
    """A bearer key of the agents service, bound to one tenant (and an agent key to one
    agent). The key itself is shown once; a SHA-256 of it is what is kept."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant: Mapped[str] = mapped_column(String(63))
    role: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConfigurationItem(Base):
    """One agent, queue or set of routing rules of a tenant, as last published on
    cc.config.v1 (the body is that event's payload)."""

    __tablename__ = "configuration"

    tenant: Mapped[str] = mapped_column(String(63), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReadConversation(Base):
    """A conversation as agents and supervisors see it (built from cc.routing.v1)."""

    __tablename__ = "rm_conversations"
    __table_args__ = (
        Index("ix_rm_conversations_queue", "tenant", "queue_id", "state"),
        Index("ix_rm_conversations_customer", "tenant", "customer_id", "opened_at"),
    )

    conversation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    state: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    thread: Mapped[str] = mapped_column(Text)
    queue_id: Mapped[str | None] = mapped_column(String(200))
    agent_id: Mapped[str | None] = mapped_column(String(200), index=True)
    customer: Mapped[str] = mapped_column(Text)
    # The customer's id at the provider (Customer.id), for their earlier conversations.
    customer_id: Mapped[str | None] = mapped_column(Text)
    complexity: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # For positions and queue statistics: priority and the start of the current wait;
    # first queued and first answered (ASA, service level); ended (handle time).
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    waiting_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # For the customer-experience summary.
    bot_handled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    disposition: Mapped[str | None] = mapped_column(String(100))
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # After-contact work once closed: planned end, and actual end (the slot is free again).
    wrap_up_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    wrap_up_ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @hybrid_property
    def wrapping_up(self) -> bool:
        return self.wrap_up_until is not None and self.wrap_up_ended_at is None

    @wrapping_up.inplace.expression
    @classmethod
    def _wrapping_up_in_sql(cls) -> ColumnElement[bool]:
        return and_(cls.wrap_up_until.is_not(None), cls.wrap_up_ended_at.is_(None))


class ReadSurvey(Base):
    """A survey sent after a close, and its answer once given."""

    __tablename__ = "rm_surveys"

    conversation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    survey: Mapped[str] = mapped_column(String(8), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63), index=True)
    queue_id: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    score: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ReadAgent(Base):
    """An agent's presence as the router sees it."""

    __tablename__ = "rm_agents"

    tenant: Mapped[str] = mapped_column(String(63), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)  # why away or offline, if said


class ReadMessage(Base):
    __tablename__ = "rm_messages"

    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    sender: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReadOffer(Base):
    __tablename__ = "rm_offers"

    offer_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    conversation_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(200), index=True)
    queue_id: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))  # open, accepted, declined, expired


class AppliedEvent(Base):
    """A routing event the read model applied; `causation` lets a command find its verdict."""

    __tablename__ = "rm_applied"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    causation: Mapped[str | None] = mapped_column(String(64), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    detail: Mapped[str | None] = mapped_column(Text)  # the routing history's line (JSON)


class BotFaq(Base):
    """An entry of a tenant's FAQ, which the built-in bot answers from."""

    __tablename__ = "bot_faq"

    tenant: Mapped[str] = mapped_column(String(63), primary_key=True)
    faq_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(64))  # one the router detects
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BotThread(Base):
    """A conversation the built-in bot holds, and what it said so far."""

    __tablename__ = "bot_threads"

    conversation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(63))
    language: Mapped[str] = mapped_column(String(8))
    angry: Mapped[bool] = mapped_column(Boolean)
    turns: Mapped[int] = mapped_column(Integer)
    awaiting_feedback: Mapped[bool] = mapped_column(Boolean)
    transcript: Mapped[str] = mapped_column(Text)  # JSON list of {sender, text, at}
    # What the router found in the message that brought it here (JSON list).
    intents: Mapped[str] = mapped_column(Text, server_default="[]")
    # An external bot must have answered by then, or a person takes over.
    answer_due: Mapped[datetime | None] = mapped_column(UtcDateTime)


class BotWebhook(Base):
    """A tenant's external bot: where omniroute posts conversation events, signed."""

    __tablename__ = "bot_webhooks"

    tenant: Mapped[str] = mapped_column(String(63), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    timeout_s: Mapped[float] = mapped_column(Float)


class BotApplied(Base):
    """An event the bot applied, or a keyed request of an external bot it carried out."""

    __tablename__ = "bot_applied"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
