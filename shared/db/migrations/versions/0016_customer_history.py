"""The customer's id as a column of the read model's conversations, so a conversation
shows the customer's earlier ones; filled in for the conversations already there.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("rm_conversations") as table:
        table.add_column(sa.Column("customer_id", sa.Text))
    conversations = sa.table(
        "rm_conversations",
        sa.column("conversation_id", sa.String),
        sa.column("customer", sa.Text),
        sa.column("customer_id", sa.Text),
    )
    # The customer is JSON text: read in Python, alike on SQLite and PostgreSQL.
    connection = op.get_bind()
    while rows := connection.execute(
        sa.select(conversations.c.conversation_id, conversations.c.customer)
        .where(conversations.c.customer_id.is_(None))
        .limit(_BATCH)
    ).all():
        connection.execute(
            conversations.update()
            .where(conversations.c.conversation_id == sa.bindparam("cid"))
            .values(customer_id=sa.bindparam("customer_id")),
            [{"cid": cid, "customer_id": json.loads(customer)["id"]} for cid, customer in rows],
        )
    op.create_index(
        "ix_rm_conversations_customer",
        "rm_conversations",
        ["tenant", "customer_id", "opened_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_rm_conversations_customer", "rm_conversations")
    with op.batch_alter_table("rm_conversations") as table:
        table.drop_column("customer_id")
