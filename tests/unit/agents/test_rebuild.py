"""The read model rebuilt from cc.routing.v1 is the read model built live."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from services.agents.readmodel import apply, rebuild
from shared import events as ev
from shared.bus.local import LocalBus
from shared.config import Settings
from shared.db.migrate import upgrade_async
from shared.db.models import ReadAgent, ReadConversation, ReadMessage
from shared.runtime import Runtime, bootstrap

ROUTING_EVENTS: list[ev.Payload] = [
    ev.ConversationOpened(
        conversation_id="c1",
        channel=ev.Channel.CHAT,
        provider="webchat",
        thread_key="s1",
        customer=ev.Customer(id="s1", name="Lucía"),
    ),
    ev.MessageAppended(
        conversation_id="c1", message_id="m1", sender=ev.Sender.CUSTOMER, text="refund please"
    ),
    ev.ConversationQueued(conversation_id="c1", queue_id="billing", priority=1),
    ev.AgentStatusChanged(agent_id="ana", status=ev.AgentStatus.AVAILABLE),
    ev.ConversationAssigned(conversation_id="c1", agent_id="ana", queue_id="billing"),
]


Row = tuple[str, str, str | None, str | None, int, datetime | None]
Snapshot = tuple[list[Row], list[tuple[str, str]], list[tuple[str, str]]]


async def snapshot(runtime: Runtime) -> Snapshot:
    async with runtime.sessions() as session:
        conversations = [
            (c.conversation_id, c.state, c.queue_id, c.agent_id, c.priority, c.answered_at)
            for c in await session.scalars(select(ReadConversation))
        ]
        messages = [(m.message_id, m.text) for m in await session.scalars(select(ReadMessage))]
        agents = [(a.agent_id, a.status) for a in await session.scalars(select(ReadAgent))]
    return conversations, messages, agents


async def test_a_rebuild_replays_the_topic_into_an_emptied_read_model(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    await upgrade_async(settings.effective_database_url)
    runtime = bootstrap(settings, bus=LocalBus(tmp_path / "bus.sqlite3"))
    await runtime.bus.start()
    for data in ROUTING_EVENTS:
        key = getattr(data, "conversation_id", None) or "ana"
        await runtime.bus.publish(ev.ROUTING, key, ev.Envelope.wrap(data, tenant="acme", key=key))
    await runtime.bus.publish(ev.ROUTING, "x", b"not an event")  # dead-lettered long ago

    progress: list[int] = []
    first = await rebuild(runtime, progress=progress.append)
    built = await snapshot(runtime)
    async with runtime.sessions() as session, session.begin():  # someone broke the read model
        row = await session.get(ReadConversation, "c1")
        assert row is not None
        row.state, row.agent_id = "closed", None
    again = await rebuild(runtime, progress=progress.append)
    rebuilt = await snapshot(runtime)
    await runtime.bus.close()
    await runtime.close_database()

    assert first == again == len(ROUTING_EVENTS) + 1 and progress[-1] == first
    assert rebuilt == built
    [conversation], [message], [agent] = built
    assert conversation[:5] == ("c1", "assigned", "billing", "ana", 1)
    assert message == ("m1", "refund please")
    assert agent == ("ana", "available")


async def test_a_message_appended_twice_under_two_event_ids_is_stored_once(
    tmp_path: Path,
) -> None:
    # The router decides twice on a reply command its sender's relay published twice;
    # the read model refused the second insert and the event went to the dead letters.
    settings = Settings(data_dir=tmp_path)
    await upgrade_async(settings.effective_database_url)
    runtime = bootstrap(settings, bus=LocalBus(tmp_path / "bus.sqlite3"))
    opened, appended = ROUTING_EVENTS[:2]
    envelopes = [ev.Envelope.wrap(data, tenant="acme", key="c1") for data in (opened, appended)]
    again = ev.Envelope.wrap(appended, tenant="acme", key="c1")
    for batch in ([*envelopes, again], [ev.Envelope.wrap(appended, tenant="acme", key="c1")]):
        async with runtime.sessions() as session, session.begin():
            await apply(session, batch)

    conversations, messages, _ = await snapshot(runtime)
    assert [c[0] for c in conversations] == ["c1"]
    assert messages == [("m1", "refund please")]
    await runtime.close_database()
