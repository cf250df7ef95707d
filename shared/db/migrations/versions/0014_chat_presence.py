"""When a web chat visitor was last seen and when they were judged gone, so a customer
who closes the chat while waiting abandons the queue instead of being offered to an
agent.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_sessions") as table:
        table.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("left_at", sa.DateTime(timezone=True)))
    op.create_index("ix_chat_sessions_present", "chat_sessions", ["left_at", "last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_chat_sessions_present", "chat_sessions")
    with op.batch_alter_table("chat_sessions") as table:
        table.drop_column("left_at")
        table.drop_column("last_seen_at")
