"""After-contact work in the read model: when an agent's wrap-up of a closed
conversation runs until, and when it ended, for the agent's load and the handle time.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rm_conversations") as table:
        table.add_column(sa.Column("wrap_up_until", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("wrap_up_ended_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("rm_conversations") as table:
        table.drop_column("wrap_up_ended_at")
        table.drop_column("wrap_up_until")
