"""Type aliases shared across services, so signatures read in the contact center's words."""

import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r} (an IANA name like Europe/Madrid)") from error
    return name


# Half of a UTF-16 surrogate pair: Python's json reads "\ud83d" alone into a str that no
# UTF-8 encoder takes.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(value: object) -> object:
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii():
        value = _LONE_SURROGATE.sub("\ufffd", value)
    return value


TenantId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
EventId = str
Topic = str
ConversationId = str
AgentId = str
QueueId = str
OfferId = str
TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
# The id of something a desk names itself (agent, queue, FAQ entry): safe in a URL path.
ItemId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")]
# Text that comes from outside (customers, providers, agents), made storable:
# - NUL characters dropped: PostgreSQL's text cannot hold one, and a record carrying it
#   stopped the consumer that stores it (the desk's read model); no one means anything
#   by it. Dropped before the field's own limits are checked, so a text of NULs alone is
#   as empty as it looks.
# - half an emoji (a lone surrogate, left where a sender cut a UTF-16 string) becomes
#   U+FFFD, as undecodable bytes of an email do: else the event cannot be encoded, and
#   the webhook answered 503 to every retry of the provider until it gave the message up.
Text = Annotated[str, BeforeValidator(_storable)]
