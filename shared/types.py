"""Type aliases shared across services, so signatures read in the contact center's words."""

from typing import Annotated

from pydantic import StringConstraints

TenantId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
EventId = str
Topic = str
ConversationId = str
AgentId = str
QueueId = str
OfferId = str
