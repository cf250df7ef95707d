"""/v1/agents, /v1/queues and /v1/routing/rules: roles, validation, and the events they publish."""

from __future__ import annotations

import pytest

from services.agents.auth import Role
from shared import events as ev
from tests.unit.agents.conftest import Desk

ANA = {
    "agent_id": "ana",
    "name": "Ana",
    "skills": {"billing": 4},
    "capacity": {"chat": 3, "email": 5},
}


async def test_an_admin_adds_an_agent_and_the_router_is_told(desk: Desk) -> None:
    created = await desk.client.post("/v1/agents", json=ANA, headers=desk.keys[Role.ADMIN])
    again = await desk.client.post("/v1/agents", json=ANA, headers=desk.keys[Role.ADMIN])
    listed = await desk.client.get("/v1/agents", headers=desk.keys[Role.SUPERVISOR])

    assert created.status_code == 201 and again.status_code == 409
    assert [a["agent_id"] for a in listed.json()["items"]] == ["ana"]
    [event] = await desk.published()
    assert event.tenant == "acme" and event.data == ev.AgentUpserted(**ANA)


async def test_roles_admins_write_supervisors_read_agents_neither(desk: Desk) -> None:
    supervisor_write = await desk.client.put(
        "/v1/agents/ben", json={"name": "Ben"}, headers=desk.keys[Role.SUPERVISOR]
    )
    agent_read = await desk.client.get("/v1/routing/rules", headers=desk.keys[Role.AGENT])
    nobody = await desk.client.get("/v1/queues")
    assert (supervisor_write.status_code, agent_read.status_code, nobody.status_code) == (
        403,
        403,
        401,
    )


async def test_a_wrong_value_is_a_422_naming_the_field(desk: Desk) -> None:
    response = await desk.client.put(
        "/v1/agents/ana",
        json={"name": "Ana", "skills": {"billing": 7}},
        headers=desk.keys[Role.ADMIN],
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.skills.billing"]


async def test_queues_and_rules_that_point_at_them(desk: Desk) -> None:
    admin = desk.keys[Role.ADMIN]
    queue = await desk.client.post(
        "/v1/queues",
        json={"queue_id": "billing", "name": "Billing", "required_skills": {"billing": 2}},
        headers=admin,
    )
    unknown = await desk.client.put(
        "/v1/routing/rules", json={"default_queue_id": "general"}, headers=admin
    )
    rules = await desk.client.put(
        "/v1/routing/rules",
        json={
            "default_queue_id": "billing",
            "rules": [{"intent": "invoice", "queue_id": "billing"}],
        },
        headers=admin,
    )
    read = await desk.client.get("/v1/routing/rules", headers=desk.keys[Role.SUPERVISOR])

    assert queue.status_code == 201
    assert unknown.status_code == 422 and "unknown queues: general" in unknown.json()["detail"]
    assert rules.status_code == 200 and read.json()["rules"][0]["queue_id"] == "billing"
    assert [e.type for e in await desk.published()] == ["QueueUpserted", "RoutingRulesChanged"]


async def test_deleting_an_agent_deactivates_them_for_the_router(desk: Desk) -> None:
    admin = desk.keys[Role.ADMIN]
    await desk.client.post("/v1/agents", json=ANA, headers=admin)
    deleted = await desk.client.delete("/v1/agents/ana", headers=admin)
    gone = await desk.client.get("/v1/agents/ana", headers=admin)

    assert (deleted.status_code, gone.status_code) == (204, 404)
    last = (await desk.published())[-1].data
    assert isinstance(last, ev.AgentUpserted) and last.active is False


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"business_hours": [{"opens": "09:00:00+01:00", "closes": "17:00"}]}, "without an offset"),
        ({"business_hours": [{"opens": "22:00", "closes": "06:00"}]}, "overnight"),
        (
            {"business_hours": [{"days": [7], "opens": "09:00", "closes": "17:00"}]},
            "less than or equal to 6",
        ),
    ],
)
async def test_hours_the_router_could_not_apply_are_refused(
    desk: Desk, change: dict[str, object], complaint: str
) -> None:
    response = await desk.client.put(
        "/v1/queues/general", json={"name": "General", **change}, headers=desk.keys[Role.ADMIN]
    )
    assert response.status_code == 422
    assert complaint in response.text
    assert await desk.published() == []
