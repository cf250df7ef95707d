"""Read model for queue statistics and routing history: wait and answer times of
conversations, agents' presence, and the detail of each applied routing event.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMES = ("waiting_since", "queued_at", "answered_at", "ended_at")


def upgrade() -> None:
    with op.batch_alter_table("rm_conversations") as table:
        table.add_column(sa.Column("priority", sa.Integer, nullable=False, server_default="0"))
        for column in TIMES:
            table.add_column(sa.Column(column, sa.DateTime(timezone=True)))
    op.create_index(
        "ix_rm_conversations_queue", "rm_conversations", ["tenant", "queue_id", "state"]
    )
    op.create_table(
        "rm_agents",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("agent_id", sa.String(200), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("rm_applied") as table:
        table.add_column(sa.Column("detail", sa.Text))
    op.create_index("ix_rm_applied_conversation_id", "rm_applied", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_rm_applied_conversation_id", "rm_applied")
    with op.batch_alter_table("rm_applied") as table:
        table.drop_column("detail")
    op.drop_table("rm_agents")
    op.drop_index("ix_rm_conversations_queue", "rm_conversations")
    with op.batch_alter_table("rm_conversations") as table:
        for column in (*TIMES, "priority"):
            table.drop_column(column)
