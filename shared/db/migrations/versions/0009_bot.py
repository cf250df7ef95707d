"""The built-in bot: each tenant's FAQ, the conversations the bot holds, and the routing
events it already acted on (it acts once per event).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_faq",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("faq_id", sa.String(200), primary_key=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "bot_threads",
        sa.Column("conversation_id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("angry", sa.Boolean, nullable=False),
        sa.Column("turns", sa.Integer, nullable=False),
        sa.Column("awaiting_feedback", sa.Boolean, nullable=False),
        sa.Column("transcript", sa.Text, nullable=False),
    )
    op.create_table(
        "bot_applied",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("bot_applied", "bot_threads", "bot_faq"):
        op.drop_table(table)
