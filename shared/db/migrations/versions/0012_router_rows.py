"""The router's open conversations and customers as rows of their own, so a batch
writes what it changed instead of the tenant's whole state.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "router_conversations",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("conversation_id", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "router_customers",
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    # Split each state stored whole into the tenant's part and the rows.
    connection = op.get_bind()
    tenants = sa.table(
        "router_tenants", sa.column("tenant", sa.String), sa.column("state", sa.LargeBinary)
    )
    conversations = sa.table(
        "router_conversations",
        sa.column("tenant", sa.String),
        sa.column("conversation_id", sa.String),
        sa.column("data", sa.LargeBinary),
    )
    customers = sa.table(
        "router_customers",
        sa.column("tenant", sa.String),
        sa.column("customer_id", sa.String),
        sa.column("data", sa.LargeBinary),
    )
    for tenant, raw in connection.execute(sa.select(tenants.c.tenant, tenants.c.state)).all():
        whole = json.loads(raw)
        listed = whole.pop("conversations", [])
        whole["opened"] = len(listed)  # the order they were listed in is the order they opened
        rows = [
            {
                "tenant": tenant,
                "conversation_id": c["conversation_id"],
                "data": _bytes({**c, "ordinal": n}),
            }
            for n, c in enumerate(listed, start=1)
        ]
        if rows:
            connection.execute(conversations.insert(), rows)
        last_agent, contacts = whole.pop("last_agent", {}), whole.pop("contacts", {})
        people = [
            {
                "tenant": tenant,
                "customer_id": customer,
                "data": _bytes(
                    {"last_agent": last_agent.get(customer), "contacts": contacts.get(customer, [])}
                ),
            }
            for customer in {*last_agent, *contacts}
        ]
        if people:
            connection.execute(customers.insert(), people)
        connection.execute(
            tenants.update().where(tenants.c.tenant == tenant).values(state=_bytes(whole))
        )


def _bytes(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def downgrade() -> None:
    op.drop_table("router_customers")
    op.drop_table("router_conversations")
