"""Why an agent is away (a break, lunch, a meeting), as the router last published it,
for the wallboard and the agents API.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rm_agents") as table:
        table.add_column(sa.Column("reason", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("rm_agents") as table:
        table.drop_column("reason")
