"""The agents service's read model of cc.routing.v1: conversations, messages, offers,
agent status, and the events already applied (it is idempotent by event id).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rm_conversations",
        sa.Column("conversation_id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False, index=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("thread", sa.String(500), nullable=False),
        sa.Column("queue_id", sa.String(200)),
        sa.Column("agent_id", sa.String(200), index=True),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("complexity", sa.Text),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rm_messages",
        sa.Column("message_id", sa.String(64), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(200)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rm_offers",
        sa.Column("offer_id", sa.String(100), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(200), nullable=False, index=True),
        sa.Column("queue_id", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
    )
    op.create_table(
        "rm_applied",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("causation", sa.String(64), index=True),
        sa.Column("conversation_id", sa.String(64)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("rm_applied", "rm_offers", "rm_messages", "rm_conversations"):
        op.drop_table(table)
