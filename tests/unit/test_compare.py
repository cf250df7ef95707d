"""`omniroute simulate --compare` and the selection policies it compares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from omniroute.cli import main
from omniroute.compare import compare
from omniroute.simulate import Scenario
from services.router.core.policies import RoundRobin, least_busy, longest_idle
from services.router.core.state import Agent, Conversation, Stage, TenantState
from shared import events as ev

NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)
STATE = TenantState("acme")
CONVERSATION = Conversation(
    "c1", ev.Channel.CHAT, "test", "t1", ev.Customer(id="x"), "en", (), NOW, Stage.QUEUED
)


def agent(agent_id: str, load: int = 0, idle_for_s: float | None = None) -> Agent:
    free = Agent(agent_id, agent_id, {}, frozenset(), {ev.Channel.CHAT: 3})
    free.load = {ev.Channel.CHAT: load}
    free.idle_since = None if idle_for_s is None else NOW - timedelta(seconds=idle_for_s)
    return free


def test_round_robin_goes_around_the_online_agents_whatever_their_load() -> None:
    pick = RoundRobin()
    agents = [agent("b", load=2), agent("a"), agent("c", load=1)]
    chosen = [pick(agents, CONVERSATION, STATE, NOW) for _ in range(4)]
    assert [a.agent_id for a in chosen if a] == ["a", "b", "c", "a"]


def test_least_busy_takes_the_fewest_open_conversations() -> None:
    agents = [agent("a", load=2), agent("b", load=1), agent("c", load=1)]
    assert least_busy(agents, CONVERSATION, STATE, NOW) == agents[1]
    assert least_busy([], CONVERSATION, STATE, NOW) is None


def test_longest_idle_takes_the_agent_idle_longest_and_busy_agents_last() -> None:
    agents = [agent("a", load=1), agent("b", idle_for_s=30), agent("c", idle_for_s=300)]
    assert longest_idle(agents, CONVERSATION, STATE, NOW) == agents[2]
    assert longest_idle(agents[:1], CONVERSATION, STATE, NOW) == agents[0]


BASE = Scenario(agents=10, arrival_rate_per_hour=100, aht_s=300, patience_s=300, hours=40)


def test_every_policy_sees_the_same_customers_and_only_omniroute_routes_by_skill() -> None:
    rows = {row.policy: row for row in compare(BASE)}
    assert list(rows) == ["omniroute", "round_robin", "least_busy", "longest_idle"]
    assert len({row.offered for row in rows.values()}) == 1
    assert rows["omniroute"].right_skill_share == 1.0
    for name in ("round_robin", "least_busy", "longest_idle"):
        # A third of the agents hold a specialist skill: blind picks mostly miss it.
        share = rows[name].right_skill_share
        assert share is not None and share < 0.6
    # Round robin spreads work evenly; the load never falls on one agent alone.
    assert rows["round_robin"].load_spread < 1.15
    assert all(1 <= row.load_spread < 2 for row in rows.values())


def test_the_command_prints_the_table_and_draws_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["simulate", "--agents", "10", "--arrival-rate-per-hour", "100", "--aht-s", "300",
          "--hours", "10", "--compare", "--out", str(tmp_path)])  # fmt: skip
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split()[:2] == ["policy", "SL"]
    assert [line.split(" (")[0] for line in printed[1:5]] == [
        "omniroute", "round robin", "least busy", "longest idle",
    ]  # fmt: skip
    assert (tmp_path / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
