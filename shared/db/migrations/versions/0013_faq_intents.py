"""The intent an FAQ entry answers, and the intents the router found in the message that
handed a conversation to the bot.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bot_faq") as table:
        table.add_column(sa.Column("intent", sa.String(64)))
    with op.batch_alter_table("bot_threads") as table:
        table.add_column(sa.Column("intents", sa.Text, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("bot_threads") as table:
        table.drop_column("intents")
    with op.batch_alter_table("bot_faq") as table:
        table.drop_column("intent")
