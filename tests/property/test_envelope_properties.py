"""Whatever customers write survives the wire unchanged."""

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

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
