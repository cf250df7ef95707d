"""Identifiers that come from providers as text of any length: an email address may run
to 254 characters and a Message-ID (an email's thread) to a whole header line, and
PostgreSQL refused either in a column of 200 or 500 (SQLite never checked).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, its old length): the record key of an event (a thread or a customer),
# the customer the router remembers, the thread of a conversation, a provider's message id.
WIDENED = (
    ("outbox", "key", 200),
    ("router_customers", "customer_id", 200),
    ("rm_conversations", "thread", 500),
    ("channel_messages", "provider_message_id", 500),
)


def upgrade() -> None:
    for table, column, length in WIDENED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    for table, column, length in WIDENED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(length), existing_type=sa.Text())
