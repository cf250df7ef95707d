"""An external bot per tenant instead of the built-in one, and when the bot holding a
conversation must have answered.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_webhooks",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("timeout_s", sa.Float, nullable=False),
    )
    with op.batch_alter_table("bot_threads") as table:
        table.add_column(sa.Column("answer_due", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("bot_threads") as table:
        table.drop_column("answer_due")
    op.drop_table("bot_webhooks")
