"""The router's tables in memory, written the way the service writes them: the
tenant's part every batch, the rows a batch touched."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.router import snapshot
from services.router.core.state import TenantState


@dataclass
class Rows:
    tenant: bytes = b""
    conversations: dict[str, bytes] = field(default_factory=dict)
    customers: dict[str, bytes] = field(default_factory=dict)

    def write(self, state: TenantState, touched: snapshot.Touched) -> None:
        self.tenant = snapshot.dump_tenant(state)
        for cid in touched.conversations:
            self.conversations.pop(cid, None)
            if (conversation := state.conversations.get(cid)) is not None:
                self.conversations[cid] = snapshot.dump_conversation(conversation)
        for customer in touched.customers:
            self.customers.pop(customer, None)
            if (data := snapshot.dump_customer(state, customer)) is not None:
                self.customers[customer] = data

    def load(self, tenant: str) -> TenantState:
        return snapshot.load(
            tenant, self.tenant, list(self.conversations.values()), self.customers.items()
        )

    @classmethod
    def whole(cls, state: TenantState) -> Rows:
        """Every row of the state, as a first write of it would store them."""
        rows = cls()
        customers = {*state.last_agent, *state.contacts}
        rows.write(state, snapshot.Touched(frozenset(state.conversations), frozenset(customers)))
        return rows
