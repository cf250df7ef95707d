"""The event contracts: what producers may send and what consumers refuse."""

from __future__ import annotations

import json
import re
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from omniroute.cli import main
from shared import events as ev
from tests.samples import AT, SAMPLES


def test_every_event_type_has_a_sample() -> None:
    assert set(SAMPLES) == set(ev.EVENT_TOPICS)


@pytest.mark.parametrize("payload", SAMPLES.values(), ids=lambda p: type(p).__name__)
def test_every_event_survives_the_wire_on_each_of_its_topics(payload: ev.Payload) -> None:
    envelope = ev.Envelope.wrap(payload, tenant="acme", key="c1", at=AT, causation="e0")
    for topic in ev.EVENT_TOPICS[type(payload)]:
        assert ev.decode(ev.encode(envelope), topic=topic) == envelope


def test_the_envelope_on_the_wire_is_the_documented_one() -> None:
    envelope = ev.Envelope.wrap(SAMPLES[ev.HandedToBot], tenant="acme", key="c1", at=AT)
    wire = json.loads(ev.encode(envelope))
    assert wire == {
        "id": envelope.id,
        "type": "HandedToBot",
        "v": 1,
        "tenant": "acme",
        "key": "c1",
        "at": "2026-11-24T09:30:00Z",
        "causation": None,
        "data": {"conversation_id": "c1"},
    }


@pytest.mark.parametrize("payload", SAMPLES.values(), ids=lambda p: type(p).__name__)
def test_an_event_that_follows_another_is_the_one_wrap_would_make(payload: ev.Payload) -> None:
    cause = ev.Envelope.wrap(SAMPLES[ev.HandedToBot], tenant="acme", key="c1", at=AT)
    encoded = cause.follow_json(payload, key="c2", at=AT)
    followed = ev.decode(encoded)
    wrapped = ev.Envelope.wrap(payload, tenant="acme", key="c2", at=AT, causation=cause.id)
    assert followed.causation == cause.id
    assert followed.id not in (cause.id, ev.decode(cause.follow_json(payload, key="c2", at=AT)).id)
    assert encoded == ev.encode(wrapped.model_copy(update={"id": followed.id}))
    with pytest.raises(ValueError, match="needs a key"):
        cause.follow_json(payload, key="", at=AT)


def test_the_same_moment_in_two_zones_is_written_with_each_zone() -> None:
    cause = ev.Envelope.wrap(SAMPLES[ev.HandedToBot], tenant="acme", key="c1", at=AT)
    payload = SAMPLES[ev.HandedToBot]
    for at in (AT, AT.astimezone(timezone(timedelta(hours=-3)))):
        encoded = cause.follow_json(payload, key="c1", at=at)
        wrapped = ev.Envelope.wrap(payload, tenant="acme", key="c1", at=at, causation=cause.id)
        assert encoded == ev.encode(wrapped.model_copy(update={"id": ev.decode(encoded).id}))


def test_event_ids_are_uuid7_and_sort_by_creation() -> None:
    ids = [ev.new_event_id() for _ in range(100)]
    assert all(i[14] == "7" for i in ids)
    assert ids == sorted(ids)


def test_a_field_added_by_a_newer_producer_is_ignored() -> None:
    envelope = ev.Envelope.wrap(SAMPLES[ev.HandedToBot], tenant="acme", key="c1")
    wire = json.loads(ev.encode(envelope))
    wire["data"]["bot_name"] = "faq-bot"
    wire["trace"] = "abc"
    assert ev.decode(json.dumps(wire).encode(), topic=ev.ROUTING).data == SAMPLES[ev.HandedToBot]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "Teleported"}, "unknown event type 'Teleported'"),
        ({"v": 2}, "v: Input should be 1"),
        ({"tenant": "Acme Corp"}, "tenant: String should match pattern"),
        ({"at": "2026-11-24T09:30:00"}, "at: Input should have timezone info"),
        ({"key": ""}, "key: String should have at least 1 character"),
        ({"data": {"conversation_id": 7}}, "data.conversation_id: Input should be a valid string"),
        ({"data": None}, "Input should be a valid dictionary"),
        ({"data": {}}, "data.conversation_id: Field required"),
    ],
)
def test_an_invalid_record_is_refused_with_a_readable_reason(
    change: dict[str, object], reason: str
) -> None:
    wire = json.loads(ev.encode(ev.Envelope.wrap(SAMPLES[ev.HandedToBot], tenant="a", key="c1")))
    wire.update(change)
    with pytest.raises(ev.InvalidRecord, match=re.escape(reason)):
        ev.decode(json.dumps(wire).encode())


def test_an_envelope_whose_type_names_another_payload_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="type 'BotResolved' does not match data HandedToBot"):
        ev.Envelope(type="BotResolved", tenant="acme", key="c1", data=SAMPLES[ev.HandedToBot])


def test_an_event_on_the_wrong_topic_is_refused() -> None:
    envelope = ev.Envelope.wrap(SAMPLES[ev.OfferCreated], tenant="acme", key="c1")
    with pytest.raises(ev.InvalidRecord, match=r"OfferCreated does not belong on cc\.inbound\.v1"):
        ev.decode(ev.encode(envelope), topic=ev.INBOUND)


def test_payload_rules_hold() -> None:
    with pytest.raises(ValueError, match="exactly one of to_queue_id and to_agent_id"):
        ev.ConversationTransferRequested(conversation_id="c1")
    with pytest.raises(ValueError, match="a CSAT score is 1 to 5"):
        ev.SurveyAnswered(conversation_id="c1", survey="csat", score=9)


def test_omniroute_schema_writes_one_schema_per_event(tmp_path: Path) -> None:
    assert main(["schema", "--out", str(tmp_path)]) == 0

    written = {path.stem: json.loads(path.read_text()) for path in tmp_path.glob("*.json")}
    assert set(written) == set(ev.EVENT_TYPES)
    offer = written["OfferCreated"]
    assert offer["properties"]["type"] == {
        "const": "OfferCreated",
        "title": "Type",
        "type": "string",
    }
    assert offer["x-topics"] == ["cc.routing.v1"]
    assert "expires_at" in offer["$defs"]["OfferCreated"]["required"]


def test_the_published_schemas_in_docs_match_the_code(tmp_path: Path) -> None:
    main(["schema", "--out", str(tmp_path)])
    docs = Path(__file__).resolve().parents[2] / "docs" / "events"
    for generated in tmp_path.glob("*.json"):
        published = docs / generated.name
        assert published.exists(), f"run `make schema`: {published} is missing"
        assert published.read_text() == generated.read_text(), f"run `make schema`: {published}"


def test_text_from_outside_arrives_without_nul_characters() -> None:
    wire = ev.encode(
        ev.Envelope.wrap(
            ev.ReplySent.model_construct(
                conversation_id="c1", sender=ev.Sender.AGENT, text="on\x00e", attachments=()
            ),
            tenant="acme",
            key="c1",
        )
    )
    assert b"\\u0000" in wire  # what a client may send
    reply = ev.decode(wire, topic=ev.AGENT_EVENTS).data
    assert isinstance(reply, ev.ReplySent) and reply.text == "one"


def test_half_an_emoji_from_a_provider_becomes_a_replacement_character() -> None:
    # What Python's json makes of {"text": "ok \\ud83d"}: a str no UTF-8 encoder takes.
    message = ev.MessageReceived(
        channel=ev.Channel.TELEGRAM,
        provider="telegram",
        provider_message_id="1",
        thread_key="t\udc00",
        customer=ev.Customer(id="c1", name="Luc\ud83día"),
        text="ok \ud83d",
    )
    wire = ev.encode(ev.Envelope.wrap(message, tenant="acme", key="t"))
    received = ev.decode(wire, topic=ev.INBOUND).data
    assert isinstance(received, ev.MessageReceived)
    assert (received.text, received.thread_key, received.customer.name) == (
        "ok \ufffd",
        "t\ufffd",
        "Luc\ufffdía",
    )
