"""Read model for customer experience: surveys sent and answered, and per conversation
whether the bot handled it, how it closed and when it first got a response.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rm_surveys",
        sa.Column("conversation_id", sa.String(64), primary_key=True),
        sa.Column("survey", sa.String(8), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False, index=True),
        sa.Column("queue_id", sa.String(200)),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Integer),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
    )
    with op.batch_alter_table("rm_conversations") as table:
        table.add_column(
            sa.Column("bot_handled", sa.Boolean, nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("disposition", sa.String(100)))
        table.add_column(sa.Column("first_response_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("rm_conversations") as table:
        for column in ("first_response_at", "disposition", "bot_handled"):
            table.drop_column(column)
    op.drop_table("rm_surveys")
