"""Whatever customers write survives the wire unchanged."""

import json
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared import events as ev

identifiers = st.text(min_size=1, max_size=40)
tenants = st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,20}\Z")


@given(
    tenant=tenants,
    text=st.text(max_size=2000),
    customer=st.builds(ev.Customer, id=identifiers, name=st.none() | st.text(max_size=60)),
    thread=identifiers,
    channel=st.sampled_from(ev.Channel),
)
def test_a_message_round_trips(
    tenant: str, text: str, customer: ev.Customer, thread: str, channel: ev.Channel
) -> None:
    message = ev.MessageReceived(
        channel=channel,
        provider="test",
        provider_message_id="m1",
        thread_key=thread,
        customer=customer,
        text=text,
    )
    envelope = ev.Envelope.wrap(message, tenant=tenant, key=thread)
    assert ev.decode(ev.encode(envelope), topic=ev.INBOUND) == envelope


@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_refused_with_a_reason_never_a_crash(raw: bytes) -> None:
    try:
        ev.decode(raw, topic=ev.INBOUND)
    except ev.InvalidRecord as error:
        assert str(error)


@given(
    tenant=tenants,
    key=identifiers,
    cause_key=identifiers,
    text=st.text(max_size=200),
    at=st.datetimes(timezones=st.timezones()),
)
def test_an_event_that_follows_another_is_written_as_wrap_would(
    tenant: str, key: str, cause_key: str, text: str, at: datetime
) -> None:
    cause = ev.Envelope.wrap(ev.HandedToBot(conversation_id=cause_key), tenant=tenant, key=key)
    payload = ev.MessageAppended(
        conversation_id=key, message_id="m1", sender=ev.Sender.CUSTOMER, text=text
    )
    encoded = cause.follow_json(payload, key=key, at=at)
    wrapped = ev.Envelope.wrap(payload, tenant=tenant, key=key, at=at, causation=cause.id)
    assert encoded == ev.encode(wrapped.model_copy(update={"id": ev.decode(encoded).id}))


# Values at the edge of the fields' rules (empty, negative, a time without zone, an
# upper-case tenant), then any JSON.
_json_values: st.SearchStrategy[object] = st.sampled_from(
    ["", " ", "x", "ACME", -1, 0, 2, 1.5, True, None, "2026-01-01T10:00:00", [], {}]
) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=8,
)
_samples = [
    ev.Envelope.wrap(
        ev.MessageReceived(
            channel=ev.Channel.WHATSAPP,
            provider="whatsapp",
            provider_message_id="wamid.1",
            thread_key="34600000000",
            customer=ev.Customer(id="34600000000", name="Ana", tier="vip"),
            text="hola",
            attachments=[ev.Attachment(name="a.jpg", content_type="image/jpeg", size_bytes=10)],
        ),
        tenant="acme",
        key="34600000000",
    ),
    ev.Envelope.wrap(
        ev.AgentUpserted(agent_id="a1", name="Ana", capacity={"chat": 3}), tenant="acme", key="a1"
    ),
    ev.Envelope.wrap(
        ev.ConversationCloseRequested(
            conversation_id="c1", disposition="resolved", by_agent_id="a1"
        ),
        tenant="acme",
        key="c1",
    ),
]


@given(
    sample=st.sampled_from(_samples),
    path=st.lists(st.integers(min_value=0), min_size=1, max_size=3),
    value=_json_values,
    new_field=st.none() | st.text(max_size=10),
    remove=st.booleans(),
)
def test_decode_accepts_and_refuses_what_the_envelope_model_does(
    sample: ev.Envelope, path: list[int], value: object, new_field: str | None, remove: bool
) -> None:
    """`decode` validates a record in one pass over a union of typed envelopes, faster
    than `Envelope`'s own validation; for any record, even one changed at a random place
    (a field of the envelope, of its data, of a nested model or list), the two agree."""
    record = json.loads(ev.encode(sample))
    place: dict[str, object] | list[object] = record
    for step in path[:-1]:  # down into data, customer, attachments... where the path leads
        inner = list(place.values()) if isinstance(place, dict) else place
        nested = [v for v in inner if isinstance(v, dict | list) and v]
        if nested:
            place = nested[step % len(nested)]
    if isinstance(place, list):
        place[path[-1] % len(place)] = value
    else:
        keys = list(place)
        key = new_field if new_field is not None else keys[path[-1] % len(keys)]
        if remove:
            place.pop(key, None)
        else:
            place[key] = value
    raw = json.dumps(record).encode()
    try:
        expected: ev.Envelope | str = ev.Envelope.model_validate_json(raw)
    except ValidationError as error:
        expected = ev.describe(error)
    try:
        decoded: ev.Envelope | str = ev.decode(raw)
    except ev.InvalidRecord as error:
        decoded = str(error)
    if isinstance(decoded, ev.Envelope) and isinstance(expected, ev.Envelope):
        assert type(decoded) is ev.Envelope
        assert decoded.model_fields_set == expected.model_fields_set
        made_up = {f: getattr(expected, f) for f in ("id", "at") if f not in record}
        decoded = decoded.model_copy(update=made_up)  # each validation makes them anew
        assert ev.encode(decoded) == ev.encode(expected)
    assert decoded == expected
