"""decide(state, event, now) -> the events that report what the router decided.

Pure: the clock comes in as `now`, new ids derive from the id of the event that
caused them, and nothing here does I/O. Every input ends with `_dispatch`, so
after each decision no eligible agent is left idle while a conversation waits
for them (the router is work-conserving).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from services.router.core.complexity import Classifier, Message, RuleClassifier
from services.router.core.hours import is_open
from services.router.core.selection import (
    Selection,
    could_serve,
    is_eligible,
    omniroute_selection,
    sticky_agent,
)
from services.router.core.state import (
    ABANDONED,
    ASSIGNED,
    AVAILABLE,
    BOT,
    CLOSED,
    EMAIL,
    OFFERED,
    OFFLINE,
    QUEUED,
    Agent,
    Conversation,
    Offer,
    Queue,
    Stage,
    Survey,
    TenantState,
)
from shared import events as ev
from shared import surveys

DEFAULT_RULES = ev.RoutingRulesChanged(default_queue_id="general")
REPEAT_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed: offers expire and waiting conversations move to wider bullseye rings."""

    now: datetime


@dataclass(frozen=True, slots=True)
class Out:
    """One event to publish: the service wraps it in an envelope caused by the input."""

    topic: str
    key: str
    data: ev.Payload

    # Written out: compiled (shared/compiled.py), the __init__ that dataclass generates
    # runs interpreted, 15 times slower than this one, and each decision makes several.
    def __init__(self, topic: str, key: str, data: ev.Payload) -> None:
        object.__setattr__(self, "topic", topic)
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "data", data)


@dataclass
class Router:
    """The routing policy's parts that a tenant, the simulator or a benchmark may swap."""

    classifier: Classifier = field(default_factory=RuleClassifier)
    selection: Selection = omniroute_selection

    def decide(self, state: TenantState, event: ev.Envelope | Tick, now: datetime) -> list[Out]:
        out: list[Out] = []
        if isinstance(event, Tick):
            state.rescan = True  # bullseye rings widen, queues open
            self._expire_offers(state, now, out)
            _expire_wrap_ups(state, now, out)
            _expire_surveys(state, now)
        else:
            self._apply(state, event, now, out)
        self._dispatch(state, now, out)
        return out

    # Inputs

    def _apply(self, state: TenantState, event: ev.Envelope, now: datetime, out: list[Out]) -> None:
        # Most frequent first: each case that does not match costs an isinstance through
        # pydantic's ABCMeta (about 0.2 µs compiled), and a desk sends replies and
        # accepts far more often than it changes its configuration.
        match event.data:
            case ev.MessageReceived() as message:
                self._message(state, message, event.id, now, out)
            case ev.ReplySent() as reply:
                _reply(state, reply, event.id, out)
            case ev.OfferAccepted(offer_id=offer_id, agent_id=agent_id):
                self._accept(state, offer_id, agent_id, now, out)
            case ev.ConversationCloseRequested(
                conversation_id=cid, disposition=disposition, by_agent_id=by
            ):
                if (conversation := state.conversations.get(cid)) and conversation.is_open:
                    _close(state, conversation, disposition, by, now, out)
            case ev.AgentStatusChanged(agent_id=agent_id, status=status, reason=reason):
                # Topics are not ordered among each other: a status may come before the
                # agent's configuration, which then fills in skills and capacity.
                agent = state.agents.get(agent_id) or state.agents.setdefault(
                    agent_id, Agent(agent_id, agent_id, {}, frozenset(), {})
                )
                _set_status(state, agent, status, now, out, reason=reason)
            case ev.OfferDeclined(offer_id=offer_id, agent_id=agent_id, reason=reason):
                self._decline(state, offer_id, agent_id, reason, now, out)
            case ev.CustomerLeft() as left:
                self._customer_left(state, left, now, out)
            case ev.ConversationTransferRequested() as transfer:
                self._transfer(state, transfer, now, out)
            case ev.WrapUpEndRequested(agent_id=agent_id, conversation_id=cid):
                wrapping = state.agents.get(agent_id)
                if wrapping is not None and cid in wrapping.wrap_ups:
                    _end_wrap_up(state, wrapping, cid, "done", now, out)
            case ev.BotEscalated(conversation_id=cid, reason=reason, transcript=transcript):
                conversation = state.conversations.get(cid)
                if conversation and conversation.stage is BOT:
                    conversation.escalated = True
                    conversation.bot_transcript = transcript
                    rules = state.rules or DEFAULT_RULES
                    conversation.priority += rules.escalation_priority_boost
                    _enqueue(state, conversation, now, f"bot escalated: {reason}", out)
            case ev.BotResolved(conversation_id=cid):
                conversation = state.conversations.get(cid)
                if conversation and conversation.stage is BOT:
                    _close(state, conversation, "resolved_by_bot", "bot", now, out)
            case ev.AgentUpserted() as config:
                _upsert_agent(state, config, now, out)
            case ev.QueueUpserted() as config:
                state.upsert_queue(config)
                state.rescan = True
            case ev.RoutingRulesChanged() as rules:
                state.rules = rules
                state.rescan = True
            case _:
                pass  # surveys and other events the router has no part in

    def _message(
        self,
        state: TenantState,
        message: ev.MessageReceived,
        event_id: str,
        now: datetime,
        out: list[Out],
    ) -> None:
        conversation = _thread_of(state, message)
        if _routed_before(state, conversation, message):
            return  # a provider's retry of a message already routed
        if conversation is None and _answers_survey(state, message, now, out):
            return
        is_new = conversation is None
        if conversation is None:
            conversation = self._open(state, message, event_id, now, out)
        message_id = message.provider_message_id
        conversation.provider_message_ids.add(message_id)
        conversation.last_provider_message_id = message_id
        if conversation.channel is EMAIL:
            state.email_ids[message_id] = conversation.conversation_id
        _routing(
            out,
            conversation.conversation_id,
            ev.MessageAppended(
                conversation_id=conversation.conversation_id,
                message_id=event_id,
                sender=ev.Sender.CUSTOMER,
                text=message.text,
                attachments=message.attachments,
                provider_message_id=message_id,
            ),
        )
        # A message for a conversation already queued, offered, assigned or with the bot
        # goes to whoever has it; it never queues again.
        if is_new and conversation.stage is QUEUED:
            _enqueue(state, conversation, now, "new conversation", out)

    def _open(
        self,
        state: TenantState,
        message: ev.MessageReceived,
        event_id: str,
        now: datetime,
        out: list[Out],
    ) -> Conversation:
        rules = state.rules or DEFAULT_RULES
        customer = message.customer
        recent = [at for at in state.contacts.get(customer.id, []) if now - at < REPEAT_WINDOW]
        state.contacts[customer.id] = [*recent, now]
        state.customers_changed.add(customer.id)
        assessment = self.classifier.assess(
            Message(
                text=message.text,
                channel=message.channel,
                attachments=len(message.attachments),
                language_hint=message.language_hint,
                customer_tier=customer.tier,
                recent_contacts=len(recent),
            )
        )
        state.opened += 1
        # From here on the conversation's fields are read, not the message's: each read
        # of a pydantic field from compiled code is a generic attribute lookup.
        conversation = Conversation(
            conversation_id=event_id,
            ordinal=state.opened,
            channel=message.channel,
            provider=message.provider,
            thread_key=message.thread_key,
            customer=customer,
            language=assessment.language,
            intents=assessment.intents,
            opened_at=now,
            stage=QUEUED,
            account_id=message.account_id,
            subject=message.subject,
            priority=rules.vip_priority_boost if (customer.tier or "") == "vip" else 0,
        )
        queue = _queue_for(state, conversation)
        # Outside business hours the bot, where there is one, takes even a hard question:
        # it may solve it, and what it escalates waits for the opening.
        bot_first = assessment.score < rules.complexity_threshold or not is_open(queue.config, now)
        if bot_first and conversation.channel in rules.bot_channels:
            conversation.stage = BOT
        state.conversations[event_id] = conversation
        state.threads[(conversation.channel, conversation.thread_key)] = event_id
        cid = conversation.conversation_id
        _routing(
            out,
            cid,
            ev.ConversationOpened(
                conversation_id=cid,
                channel=conversation.channel,
                provider=conversation.provider,
                thread_key=conversation.thread_key,
                customer=customer,
            ),
        )
        _routing(
            out,
            cid,
            ev.ComplexityScored(
                conversation_id=cid,
                score=assessment.score,
                tier=assessment.tier,
                route="bot" if conversation.stage is BOT else "agent",
                intents=assessment.intents,
                language=assessment.language,
                reasons=assessment.reasons,
            ),
        )
        if conversation.stage is BOT:
            _routing(out, cid, ev.HandedToBot(conversation_id=cid))
        return conversation

    def _customer_left(
        self, state: TenantState, left: ev.CustomerLeft, now: datetime, out: list[Out]
    ) -> None:
        cid = state.threads.get((left.channel, left.thread_key))
        conversation = state.conversations.get(cid or "")
        if conversation is None or conversation.stage not in (QUEUED, OFFERED):
            return  # an agent or the bot has it: they close it
        waited = (now - (conversation.queued_at or conversation.opened_at)).total_seconds()
        _release(state, conversation, now, out, reason="the customer left")
        _forget(state, conversation, ABANDONED)
        _routing(
            out,
            conversation.conversation_id,
            ev.ConversationAbandoned(
                conversation_id=conversation.conversation_id, waited_s=max(0.0, waited)
            ),
        )

    def _accept(
        self, state: TenantState, offer_id: str, agent_id: str, now: datetime, out: list[Out]
    ) -> None:
        conversation = _offered(state, offer_id, agent_id)
        if conversation is None or conversation.offer is None:
            return
        if conversation.offer.expires_at <= now:
            self._expire(state, conversation, now, out)
            return
        state.offers.pop(offer_id, None)
        conversation.offer = None
        _assign(state, conversation, agent_id, offer_id, now, out)

    def _decline(
        self,
        state: TenantState,
        offer_id: str,
        agent_id: str,
        reason: str | None,
        now: datetime,
        out: list[Out],
    ) -> None:
        conversation = _offered(state, offer_id, agent_id)
        if conversation is None:
            return
        _withdraw_offer(state, conversation, now)
        conversation.passed_by[agent_id] = now
        _routing(
            out,
            conversation.conversation_id,
            ev.OfferDeclined(
                offer_id=offer_id,
                conversation_id=conversation.conversation_id,
                agent_id=agent_id,
                reason=reason,
            ),
        )

    def _expire_offers(self, state: TenantState, now: datetime, out: list[Out]) -> None:
        for conversation_id in list(state.offers.values()):
            conversation = state.conversations[conversation_id]
            if conversation.offer and conversation.offer.expires_at <= now:
                self._expire(state, conversation, now, out)

    def _expire(
        self, state: TenantState, conversation: Conversation, now: datetime, out: list[Out]
    ) -> None:
        assert conversation.offer is not None
        offer = conversation.offer
        _withdraw_offer(state, conversation, now)
        conversation.passed_by[offer.agent_id] = now
        _routing(
            out,
            conversation.conversation_id,
            ev.OfferExpired(
                offer_id=offer.offer_id,
                conversation_id=conversation.conversation_id,
                agent_id=offer.agent_id,
            ),
        )
        agent = state.agents.get(offer.agent_id)
        if agent is None:
            return
        agent.missed_offers += 1
        limit = (state.rules or DEFAULT_RULES).max_missed_offers
        if agent.missed_offers >= limit and agent.status is AVAILABLE:
            reason = f"missed {agent.missed_offers} offers in a row"
            _set_status(state, agent, ev.AgentStatus.AWAY, now, out, reason=reason)

    def _transfer(
        self,
        state: TenantState,
        transfer: ev.ConversationTransferRequested,
        now: datetime,
        out: list[Out],
    ) -> None:
        conversation = state.conversations.get(transfer.conversation_id)
        refusal = _transfer_refusal(state, conversation, transfer)
        if refusal is not None:
            _routing(
                out,
                transfer.conversation_id,
                ev.TransferRefused(
                    conversation_id=transfer.conversation_id,
                    to_queue_id=transfer.to_queue_id,
                    to_agent_id=transfer.to_agent_id,
                    reason=refusal,
                ),
            )
            return
        assert conversation is not None  # refused above when missing
        target = state.agents.get(transfer.to_agent_id or "")
        from_agent = conversation.agent_id or (conversation.offer and conversation.offer.agent_id)
        _release(state, conversation, now, out, reason="transferred")
        if from_agent:
            conversation.passed_by[from_agent] = now
        _routing(
            out,
            conversation.conversation_id,
            ev.ConversationTransferred(
                conversation_id=conversation.conversation_id,
                from_agent_id=from_agent,
                to_queue_id=transfer.to_queue_id,
                to_agent_id=transfer.to_agent_id,
                note=transfer.note,
            ),
        )
        if target is not None:
            conversation.passed_by.pop(target.agent_id, None)
            _offer(state, conversation, target, now, out)
        else:
            conversation.queue_id = transfer.to_queue_id
            conversation.queued_at = None
            _enqueue(state, conversation, now, "transferred", out)

    # Matching waiting conversations with free agents

    def _dispatch(self, state: TenantState, now: datetime, out: list[Out]) -> None:
        """Match what changed: each newly waiting conversation with the best eligible free
        agent, each newly free agent with the best waiting conversation they can take.
        Only changes are looked at, so a decision costs the same with 100 agents or 10,000;
        after time passed or a configuration change, every waiting conversation is."""
        queues: list[Queue] = []
        if state.rescan or state.newly_free:
            # Most decisions place one conversation or none and need no queue order
            # (sorting the queues was a tenth of such a decision).
            queues = [queue for queue in state.by_priority() if is_open(queue.config, now)]
        if state.rescan:
            state.rescan = False
            state.newly_free.clear()
            state.newly_waiting = [cid for queue in queues for cid in queue]
        waiting, state.newly_waiting = state.newly_waiting, []
        for conversation_id in waiting:
            if not state.ready:
                break
            conversation = state.conversations.get(conversation_id)
            if conversation is not None and conversation.stage is QUEUED:
                self._match(state, conversation, now, out)
        while state.newly_free:
            agent_id = next(iter(state.newly_free))
            del state.newly_free[agent_id]
            agent = state.agents[agent_id]
            while agent_id in state.ready:
                conversation = _best_waiting_for(state, agent, queues, now)
                if conversation is None:
                    break
                self._match(state, conversation, now, out)
        state.newly_waiting.clear()

    def _match(
        self, state: TenantState, conversation: Conversation, now: datetime, out: list[Out]
    ) -> None:
        queue = _queue_of(state, conversation)
        if not is_open(queue.config, now):
            return
        reoffer_after_s = (state.rules or DEFAULT_RULES).reoffer_after_s

        def eligible(agent: Agent) -> bool:
            return is_eligible(agent, conversation, queue, now, reoffer_after_s=reoffer_after_s)

        if self.selection is omniroute_selection:
            agent = _preferred_eligible(state, conversation, eligible, now)
        else:
            candidates = filter(eligible, map(state.agents.__getitem__, state.ready))
            agent = self.selection(candidates, conversation, state, now)
        if agent is not None:
            _offer(state, conversation, agent, now, out)


def _preferred_eligible(
    state: TenantState,
    conversation: Conversation,
    eligible: Callable[[Agent], bool],
    now: datetime,
) -> Agent | None:
    """omniroute_selection without looking at every free agent: the sticky agent, else the
    first eligible agent in the heap of preferred agents."""
    sticky = sticky_agent(state, conversation, now)
    if sticky is not None and sticky.agent_id in state.ready and eligible(sticky):
        return sticky
    passed_over = []
    chosen = None
    while state.preferred:
        entry = state.preferred[0]
        if not state.is_current(entry):
            heapq.heappop(state.preferred)
        elif eligible(agent := state.agents[entry[2]]):
            chosen = agent
            break
        else:
            passed_over.append(heapq.heappop(state.preferred))
    for entry in passed_over:
        heapq.heappush(state.preferred, entry)
    return chosen


def _best_waiting_for(
    state: TenantState, agent: Agent, queues: list[Queue], now: datetime
) -> Conversation | None:
    """The conversation the agent may take that should leave first: from the queues of
    the highest priority that hold one, the longest effective wait, whichever of them it
    waits in. An agent with two skills so serves both queues in turn of arrival, not one
    always before the other (`queues` come by priority, highest first)."""
    reoffer_after_s = (state.rules or DEFAULT_RULES).reoffer_after_s
    best: tuple[float, Conversation] | None = None
    best_priority = 0
    for queue in queues:
        if best is not None and queue.config.priority < best_priority:
            break
        if not could_serve(agent, queue):
            continue
        for conversation_id in queue:
            conversation = state.conversations[conversation_id]
            if is_eligible(agent, conversation, queue, now, reoffer_after_s=reoffer_after_s):
                rank = queue.rank(conversation_id)
                if best is None or rank < best[0]:
                    best, best_priority = (rank, conversation), queue.config.priority
                break
    return best[1] if best is not None else None


# State changes shared by several inputs


def _routing(out: list[Out], key: str, data: ev.Payload) -> None:
    """Record a routing decision, keyed by the conversation or agent it is about."""
    out.append(Out(ev.ROUTING, key, data))


def _thread_of(state: TenantState, message: ev.MessageReceived) -> Conversation | None:
    conversation_id = state.threads.get((message.channel, message.thread_key))
    if conversation_id is None and message.channel is EMAIL:
        conversation_id = next(
            (state.email_ids[r] for r in message.references if r in state.email_ids), None
        )
    conversation = state.conversations.get(conversation_id or "")
    return conversation if conversation and conversation.is_open else None


def _transfer_refusal(
    state: TenantState,
    conversation: Conversation | None,
    transfer: ev.ConversationTransferRequested,
) -> str | None:
    """Why the transfer cannot happen now, or None: it then leaves its holder at once."""
    if conversation is None or not conversation.is_open:
        return "the conversation is not open"
    if conversation.stage is BOT:
        return "the bot holds the conversation: escalate it instead"
    if transfer.by_agent_id is not None and transfer.by_agent_id != conversation.agent_id:
        return f"agent {transfer.by_agent_id} does not hold the conversation"
    if transfer.to_agent_id is None:
        return None
    target = state.agents.get(transfer.to_agent_id)
    if target is None or not target.takes_work:
        return f"agent {transfer.to_agent_id} is not available"
    if target.free(conversation.channel) <= 0:
        return f"agent {transfer.to_agent_id} has no free {conversation.channel} capacity"
    if target.agent_id == conversation.agent_id:
        return "the conversation is already theirs"
    return None


def _queue_of(state: TenantState, conversation: Conversation) -> Queue:
    """The queue a conversation was put in (every conversation an agent sees went through one)."""
    assert conversation.queue_id is not None
    return state.queues[conversation.queue_id]


def _queue_for(state: TenantState, conversation: Conversation) -> Queue:
    """The conversation's queue: the one it was sent to, else the first rule that matches."""
    rules = state.rules or DEFAULT_RULES
    queue_id = conversation.queue_id or next(
        (
            rule.queue_id
            for rule in rules.rules
            if (rule.intent is None or rule.intent in conversation.intents)
            and (rule.language is None or rule.language == conversation.language)
            and (rule.channel is None or rule.channel == conversation.channel)
            and (rule.tier is None or rule.tier == conversation.customer.tier)
        ),
        rules.default_queue_id,
    )
    if queue_id not in state.queues:
        # Configuration may not have arrived yet: wait in a queue with default settings.
        return state.upsert_queue(ev.QueueUpserted(queue_id=queue_id, name=queue_id))
    return state.queues[queue_id]


def _enqueue(
    state: TenantState, conversation: Conversation, now: datetime, reason: str, out: list[Out]
) -> None:
    queue = _queue_for(state, conversation)
    conversation.stage = QUEUED
    conversation.queue_id = queue.config.queue_id
    conversation.queued_at = conversation.queued_at or now
    queue.push(conversation)
    state.newly_waiting.append(conversation.conversation_id)
    _routing(
        out,
        conversation.conversation_id,
        ev.ConversationQueued(
            conversation_id=conversation.conversation_id,
            queue_id=queue.config.queue_id,
            priority=conversation.priority,
            reason=reason,
        ),
    )
    if queue.config.closed_message and not is_open(queue.config, now):
        out.append(_delivery(conversation, queue.config.closed_message, "system"))


def _offer(
    state: TenantState, conversation: Conversation, agent: Agent, now: datetime, out: list[Out]
) -> None:
    """Offer the conversation to the agent, or hand it over at once if its queue auto-accepts."""
    queue = _queue_of(state, conversation)
    queue.remove(conversation.conversation_id)
    _take_load(state, agent, conversation.channel)
    if queue.config.auto_accept:
        _assign(state, conversation, agent.agent_id, None, now, out)
        return
    conversation.offers_made += 1
    offer_id = f"{conversation.conversation_id}.offer{conversation.offers_made}"
    expires_at = now + timedelta(seconds=queue.config.offer_timeout_s)
    conversation.stage = OFFERED
    conversation.offer = Offer(offer_id, agent.agent_id, expires_at)
    state.offers[offer_id] = conversation.conversation_id
    _routing(
        out,
        conversation.conversation_id,
        ev.OfferCreated(
            offer_id=offer_id,
            conversation_id=conversation.conversation_id,
            agent_id=agent.agent_id,
            queue_id=queue.config.queue_id,
            expires_at=expires_at,
        ),
    )


def _assign(
    state: TenantState,
    conversation: Conversation,
    agent_id: str,
    offer_id: str | None,
    now: datetime,
    out: list[Out],
) -> None:
    conversation.stage = ASSIGNED
    conversation.agent_id = agent_id
    state.last_agent[conversation.customer.id] = (agent_id, now)
    state.customers_changed.add(conversation.customer.id)
    if agent := state.agents.get(agent_id):
        agent.missed_offers = 0
    _routing(
        out,
        conversation.conversation_id,
        ev.ConversationAssigned(
            conversation_id=conversation.conversation_id,
            agent_id=agent_id,
            queue_id=conversation.queue_id,
            offer_id=offer_id,
        ),
    )


def _offered(state: TenantState, offer_id: str, agent_id: str) -> Conversation | None:
    """The conversation of a live offer made to this agent, if there is one."""
    conversation = state.conversations.get(state.offers.get(offer_id, ""))
    if conversation is None or conversation.offer is None:
        return None
    if conversation.offer.offer_id != offer_id or conversation.offer.agent_id != agent_id:
        return None
    return conversation


def _withdraw_offer(state: TenantState, conversation: Conversation, now: datetime) -> None:
    """The offer ends unanswered: the conversation waits again, in its old place."""
    _cancel_offer(state, conversation, now)
    conversation.stage = QUEUED
    _queue_of(state, conversation).push(conversation)
    state.newly_waiting.append(conversation.conversation_id)


def _take_back(conversation: Conversation, out: list[Out], *, reason: str) -> None:
    """Tell the agent's desk that an open offer is gone, which no decline or expiry will."""
    assert conversation.offer is not None
    _routing(
        out,
        conversation.conversation_id,
        ev.OfferWithdrawn(
            offer_id=conversation.offer.offer_id,
            conversation_id=conversation.conversation_id,
            agent_id=conversation.offer.agent_id,
            reason=reason,
        ),
    )


def _cancel_offer(state: TenantState, conversation: Conversation, now: datetime) -> None:
    """Forget the conversation's offer and give the agent their capacity back."""
    assert conversation.offer is not None
    offer = conversation.offer
    state.offers.pop(offer.offer_id, None)
    conversation.offer = None
    if agent := state.agents.get(offer.agent_id):
        _drop_load(state, agent, conversation.channel, now)


def _release(
    state: TenantState, conversation: Conversation, now: datetime, out: list[Out], *, reason: str
) -> None:
    """Free whatever the conversation holds: its offer, its agent, its place in a queue."""
    if conversation.offer is not None:
        _take_back(conversation, out, reason=reason)
        _cancel_offer(state, conversation, now)
    if conversation.agent_id is not None:
        if agent := state.agents.get(conversation.agent_id):
            _drop_load(state, agent, conversation.channel, now)
        conversation.agent_id = None
    if conversation.queue_id in state.queues:
        state.queues[conversation.queue_id].remove(conversation.conversation_id)


def _close(
    state: TenantState,
    conversation: Conversation,
    disposition: str,
    closed_by: str | None,
    now: datetime,
    out: list[Out],
) -> None:
    agent = state.agents.get(conversation.agent_id or "")
    _release(state, conversation, now, out, reason="closed")
    _forget(state, conversation, CLOSED)
    _routing(
        out,
        conversation.conversation_id,
        ev.ConversationClosed(
            conversation_id=conversation.conversation_id,
            disposition=disposition,
            closed_by=closed_by,
        ),
    )
    queue = state.queues.get(conversation.queue_id or "")
    if agent is not None and queue is not None and queue.config.wrap_up_s:
        until = now + timedelta(seconds=queue.config.wrap_up_s)
        _start_wrap_up(state, agent, conversation, until, out)
    # `is not None`: a Queue without waiting conversations is falsy.
    if (
        queue is not None
        and queue.config.surveys
        and conversation.channel in queue.config.survey_channels
    ):
        survey = Survey(conversation, queue.config.surveys, now)
        key = (conversation.channel, conversation.thread_key)
        state.surveys.pop(key, None)  # re-inserted at the end: the dict stays in time order
        state.surveys[key] = survey
        _ask(survey, out)


def _start_wrap_up(
    state: TenantState, agent: Agent, conversation: Conversation, until: datetime, out: list[Out]
) -> None:
    """The slot the closed conversation held stays taken until `until`: the after-contact
    work (notes, follow-up) is part of handling it, and a new customer would wait on it."""
    _take_load(state, agent, conversation.channel)
    agent.wrap_ups[conversation.conversation_id] = (conversation.channel, until)
    state.wrapping[agent.agent_id] = None
    _routing(
        out,
        agent.agent_id,
        ev.WrapUpStarted(
            agent_id=agent.agent_id,
            conversation_id=conversation.conversation_id,
            channel=conversation.channel,
            until=until,
        ),
    )


def _end_wrap_up(
    state: TenantState,
    agent: Agent,
    conversation_id: str,
    reason: Literal["done", "timeout"],
    now: datetime,
    out: list[Out],
) -> None:
    channel, _ = agent.wrap_ups.pop(conversation_id)
    if not agent.wrap_ups:
        state.wrapping.pop(agent.agent_id, None)
    _drop_load(state, agent, channel, now)
    _routing(
        out,
        agent.agent_id,
        ev.WrapUpEnded(agent_id=agent.agent_id, conversation_id=conversation_id, reason=reason),
    )


def _expire_wrap_ups(state: TenantState, now: datetime, out: list[Out]) -> None:
    for agent_id in list(state.wrapping):
        agent = state.agents[agent_id]
        for conversation_id, (_, until) in list(agent.wrap_ups.items()):
            if until <= now:
                _end_wrap_up(state, agent, conversation_id, "timeout", now, out)


def _ask(survey: Survey, out: list[Out]) -> None:
    conversation, kind = survey.conversation, survey.pending[0]
    out.append(_delivery(conversation, surveys.question(kind, conversation.language), "system"))
    _routing(
        out,
        conversation.conversation_id,
        ev.SurveySent(conversation_id=conversation.conversation_id, survey=kind),
    )


def _answers_survey(
    state: TenantState, message: ev.MessageReceived, now: datetime, out: list[Out]
) -> bool:
    """Whether the message answered the survey sent on its thread. A message that gives
    no score is the customer moving on: the survey is dropped and the message routed."""
    key = (message.channel, message.thread_key)
    survey = state.surveys.pop(key, None)
    if survey is None:
        return False
    kind = survey.pending[0]
    score = surveys.score(kind, message.text)
    if score is None:
        return False
    conversation = survey.conversation
    conversation.last_provider_message_id = message.provider_message_id
    _routing(
        out,
        conversation.conversation_id,
        ev.SurveyAnswered(conversation_id=conversation.conversation_id, survey=kind, score=score),
    )
    survey.pending, survey.asked_at = survey.pending[1:], now
    if survey.pending:
        state.surveys[key] = survey  # popped above: back at the end, in time order
        _ask(survey, out)
    else:
        thanks = surveys.THANKS.get(conversation.language, surveys.THANKS["en"])
        out.append(_delivery(conversation, thanks, "system"))
    return True


def _expire_surveys(state: TenantState, now: datetime) -> None:
    window = timedelta(seconds=(state.rules or DEFAULT_RULES).survey_window_s)
    while state.surveys:
        key, survey = next(iter(state.surveys.items()))
        if now - survey.asked_at < window:
            return
        del state.surveys[key]


def _routed_before(
    state: TenantState, conversation: Conversation | None, message: ev.MessageReceived
) -> bool:
    """Whether the message is one of its open conversation's, or of the customer's
    conversation that closed last (it would open a new conversation for a message the
    desk has answered)."""
    message_id = message.provider_message_id
    return (
        conversation is not None and message_id in conversation.provider_message_ids
    ) or message_id in state.closed_messages.get(message.customer.id, ())


def _forget(state: TenantState, conversation: Conversation, stage: Stage) -> None:
    """An ended conversation leaves the routing state; its events keep its history."""
    state.closed_messages[conversation.customer.id] = set(conversation.provider_message_ids)
    state.customers_changed.add(conversation.customer.id)
    conversation.stage = stage
    state.conversations.pop(conversation.conversation_id, None)
    state.threads.pop((conversation.channel, conversation.thread_key), None)
    for message_id in conversation.provider_message_ids:
        state.email_ids.pop(message_id, None)


def _delivery(
    conversation: Conversation,
    text: str,
    author: Literal["agent", "bot", "system"],
    message_id: str | None = None,
) -> Out:
    return Out(
        ev.OUTBOUND,
        conversation.conversation_id,
        ev.DeliverMessage(
            conversation_id=conversation.conversation_id,
            channel=conversation.channel,
            provider=conversation.provider,
            recipient=conversation.customer.id,
            thread_key=conversation.thread_key,
            text=text,
            reply_to_provider_message_id=conversation.last_provider_message_id,
            account_id=conversation.account_id,
            subject=conversation.subject,
            author=author,
            message_id=message_id,
        ),
    )


def _reply(state: TenantState, reply: ev.ReplySent, event_id: str, out: list[Out]) -> None:
    conversation = state.conversations.get(reply.conversation_id)
    if conversation is None:
        return
    holds = (
        conversation.stage is ASSIGNED and conversation.agent_id == reply.agent_id
        if reply.sender is ev.Sender.AGENT
        else conversation.stage is BOT
    )
    if not holds:
        return
    cid = conversation.conversation_id
    _routing(
        out,
        cid,
        ev.MessageAppended(
            conversation_id=cid,
            message_id=event_id,
            sender=reply.sender,
            agent_id=reply.agent_id,
            text=reply.text,
            attachments=reply.attachments,
        ),
    )
    # The message's id, as appended: a reply decided twice (its command relayed twice)
    # is delivered once.
    author: Literal["bot", "agent"] = "bot" if reply.sender is ev.Sender.BOT else "agent"
    out.append(_delivery(conversation, reply.text, author, event_id))


def _upsert_agent(
    state: TenantState, config: ev.AgentUpserted, now: datetime, out: list[Out]
) -> None:
    agent = state.agents.get(config.agent_id)
    if agent is None:
        agent = state.agents[config.agent_id] = Agent(
            agent_id=config.agent_id,
            name=config.name,
            skills=dict(config.skills),
            languages=frozenset(config.languages),
            capacity=dict(config.capacity),
        )
    else:
        agent.name = config.name
        agent.skills = dict(config.skills)
        agent.languages = frozenset(config.languages)
        agent.capacity = dict(config.capacity)
    agent.active = config.active
    if not config.active and agent.status is not OFFLINE:
        _set_status(state, agent, OFFLINE, now, out, reason="deactivated")
    state.refresh(agent, gained_room=True)  # skills or capacity may fit other conversations


def _set_status(
    state: TenantState,
    agent: Agent,
    status: ev.AgentStatus,
    now: datetime,
    out: list[Out],
    *,
    reason: str | None = None,
) -> None:
    if status is agent.status:
        if reason is not None:  # away for another reason (a break, then a meeting)
            _routing(out, agent.agent_id, _presence(agent, reason))
        return
    agent.status = status
    if status is AVAILABLE:
        agent.missed_offers = 0
        agent.idle_since = agent.idle_since if sum(agent.load.values()) else now
    else:
        # Offers waiting for an agent who left go back to their queues at once.
        for conversation_id in list(state.offers.values()):
            conversation = state.conversations[conversation_id]
            if conversation.offer and conversation.offer.agent_id == agent.agent_id:
                _take_back(conversation, out, reason=f"the agent is {status}")
                _withdraw_offer(state, conversation, now)
    state.refresh(agent, gained_room=True)
    # Every change is published, the agent's own too: the read model's presence (and
    # so the desk's staffing figures) is the router's, which may differ from what an
    # agent asked for (set away after missed offers, deactivated).
    _routing(out, agent.agent_id, _presence(agent, reason))


def _presence(agent: Agent, reason: str | None) -> ev.AgentStatusChanged:
    return ev.AgentStatusChanged(agent_id=agent.agent_id, status=agent.status, reason=reason)


def _take_load(state: TenantState, agent: Agent, channel: ev.Channel) -> None:
    agent.load[channel] = agent.load.get(channel, 0) + 1
    agent.idle_since = None
    state.refresh(agent)


def _drop_load(state: TenantState, agent: Agent, channel: ev.Channel, now: datetime) -> None:
    agent.load[channel] = max(0, agent.load.get(channel, 0) - 1)
    if not any(agent.load.values()):
        agent.idle_since = now
    state.refresh(agent, gained_room=True)
