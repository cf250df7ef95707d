"""Type aliases shared across services, so signatures read in the contact center's words."""

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r} (an IANA name like Europe/Madrid)") from error
    return name


def _without_nul(value: object) -> object:
    return value.replace("\x00", "") if isinstance(value, str) and "\x00" in value else value


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
# Text that comes from outside (customers, providers, agents) without NUL characters:
# PostgreSQL's text cannot hold one, and a record carrying it stopped the consumer that
# stores it (the desk's read model); no one means anything by it. Dropped before the
# field's own limits are checked, so a text of NULs alone is as empty as it looks.
Text = Annotated[str, BeforeValidator(_without_nul)]
