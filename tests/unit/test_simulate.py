"""`omniroute simulate`: the simulated desk over the real routing core keeps its books,
repeats itself for a seed, and is as busy as the offered load says."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest

from omniroute.cli import main
from omniroute.simulate import Demand, Scenario, Simulation, Team, simulate

QUICK = Scenario(agents=10, arrival_rate_per_hour=84, aht_s=300, hours=150, seed=3)  # 0.7


def test_every_arrival_is_answered_or_abandons() -> None:
    patient = simulate(QUICK)
    impatient = simulate(Scenario(**{**QUICK.__dict__, "patience_s": 60.0}))
    assert patient.offered == patient.handled and patient.abandoned == 0
    assert impatient.offered == impatient.handled + impatient.abandoned
    assert impatient.abandoned > 0 and impatient.abandon_rate > 0
    assert impatient.asa_s < patient.asa_s  # the long waits left


def test_a_seed_repeats_the_same_day() -> None:
    assert simulate(QUICK) == simulate(QUICK)
    assert simulate(QUICK) != simulate(Scenario(**{**QUICK.__dict__, "seed": 4}))


def test_agents_are_as_busy_as_the_offered_load() -> None:
    # Occupancy converges much faster than waits: 150 simulated hours pin it to 2 points.
    assert simulate(QUICK).occupancy == pytest.approx(0.7, abs=0.02)


def test_the_wrap_up_holds_each_agents_slot_after_the_close() -> None:
    plain = Scenario(agents=10, arrival_rate_per_hour=100, aht_s=180, hours=150, seed=3)
    wrapped = dataclasses.replace(plain, wrap_up_s=72)  # 252 s a customer: 7 erlangs
    without, with_wrap_up = simulate(plain), simulate(wrapped)
    assert without.occupancy == pytest.approx(0.5, abs=0.02)
    assert with_wrap_up.occupancy == pytest.approx(0.7, abs=0.02)
    # The core offers no one a slot in wrap-up: customers wait as at 7 erlangs (Erlang C
    # P(wait) 0.04 at 5 erlangs, 0.22 at 7 on ten agents), not as at 5.
    assert without.p_wait < 0.08
    assert with_wrap_up.p_wait > 0.15


def test_the_command_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    main(["simulate", "--agents", "3", "--arrival-rate-per-hour", "20", "--aht-s", "300",
          "--patience-s", "120", "--hours", "5", "--json"])  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {
        "offered", "handled", "abandoned", "bot_resolved", "p_wait", "asa_s", "service_level",
        "abandon_rate", "occupancy", "ewt_mae_s",
    }  # fmt: skip
    assert result["offered"] > 0


def test_without_json_it_writes_a_table_and_a_picture(tmp_path: Path) -> None:
    main(["simulate", "--agents", "5", "--arrival-rate-per-hour", "50", "--aht-s", "300",
          "--hours", "10", "--out", str(tmp_path)])  # fmt: skip
    rows = list(csv.DictReader((tmp_path / "simulation.csv").read_text().splitlines()))
    assert len(rows) == 200 and rows[0]["hour"] == "0.0"
    assert set(rows[0]) == {
        "hour", "arrivals_per_hour", "agents_on_duty", "answered", "mean_wait_s", "service_level",
        "mean_ewt_quoted_s", "mean_wait_of_quoted_s",
    }  # fmt: skip
    assert sum(int(row["answered"]) for row in rows) > 400
    assert (tmp_path / "simulation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_arrivals_follow_the_time_of_day_profile() -> None:
    quiet_then_busy = (1.0,) * 12 + (3.0,) * 12  # afternoons three times the mornings
    scenario = Scenario(
        agents=30, arrival_rate_per_hour=100, aht_s=60, hours=96, seed=2, profile=quiet_then_busy
    )
    simulation = Simulation(scenario)
    simulation.run()
    hours = [opened / 3600 % 24 for opened in simulation.opened_at.values()]
    mornings, afternoons = sum(h < 12 for h in hours), sum(h >= 12 for h in hours)
    assert len(hours) == pytest.approx(100 * 96, rel=0.05)  # the rate stays the day's mean
    assert afternoons / mornings == pytest.approx(3, rel=0.1)


def test_a_shift_answers_only_while_on_duty() -> None:
    day_team = Team(3, shift=(8.0, 16.0))
    scenario = Scenario(
        agents=3, arrival_rate_per_hour=6, aht_s=300, hours=240, seed=4, teams=(day_team,)
    )
    simulation = Simulation(scenario)
    result = simulation.run()
    answered_at = [(a.arrived_s + a.waited_s) / 3600 for a in simulation.answers]
    assert all(8 <= hour % 24 < 16 + 1e-9 for hour in answered_at if hour < 240)
    # Who wrote at night waited for the morning, when all three agents began at once.
    night = [a for a in simulation.answers if (a.arrived_s / 3600) % 24 < 7]
    assert night and all(a.arrived_s + a.waited_s >= a.arrived_s // 86_400 * 86_400 + 8 * 3600
                         for a in night)  # fmt: skip
    at_eight = [hour for hour in answered_at if abs(hour % 24 - 8) < 1e-9]
    assert len(at_eight) == 3 * 11  # ten mornings, and the one after the last night
    # Busy time over the hours on duty (a third of the day), not over the whole day.
    assert result.occupancy == pytest.approx(6 * 300 * 24 / (3 * 3600 * 8), rel=0.1)
    assert [agents for _, agents in simulation.on_duty_log[:3]] == [0, 3, 0]


def test_the_bot_takes_the_simple_conversations_and_solves_its_share() -> None:
    simple = Demand("orders", 0.5, complexity=0.2, bot_resolves=0.6)
    hard = Demand("fraud", 0.5, complexity=0.9, bot_resolves=1.0)  # never reaches the bot
    scenario = Scenario(
        agents=5, arrival_rate_per_hour=40, aht_s=300, hours=200, seed=6,
        demands=(simple, hard), complexity_threshold=0.35, bot_s=30,
    )  # fmt: skip
    result = simulate(scenario)
    assert result.offered == result.handled + result.abandoned + result.bot_resolved
    # Half the customers are simple, the bot solves 60% of those: 30% of all.
    assert result.bot_resolved / result.offered == pytest.approx(0.3, abs=0.03)
    assert result.handled / result.offered == pytest.approx(0.7, abs=0.03)


def test_a_scenario_file_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).parents[2] / "docs" / "scenarios" / "retail.yaml"
    assert main(["simulate", "--scenario", str(example), "--hours", "24", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["bot_resolved"] > 0 and result["handled"] > 0
    assert result["offered"] == result["handled"] + result["abandoned"] + result["bot_resolved"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("queues: []\nteams: [{agents: 1}]", "queues"),
        ("queues: [{name: q, arrivals_per_hour: 5, chanel: chat}]\nteams: [{agents: 1}]",
         "queues.0.chanel: Extra inputs are not permitted"),
        ("queues: [{name: q, arrivals_per_hour: 5, channel: email}]\nteams: [{agents: 1}]",
         "no team takes email"),
        ("profile: [1, 2]\nqueues: [{name: q, arrivals_per_hour: 5}]\nteams: [{agents: 1}]",
         "24 hourly values"),
        ("policy: fastest\nqueues: [{name: q, arrivals_per_hour: 5}]\nteams: [{agents: 1}]",
         "fastest"),
        ("queues: [oops", "while parsing"),
    ],
)  # fmt: skip
def test_a_bad_scenario_file_says_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, says: str
) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text(text)
    assert main(["simulate", "--scenario", str(path), "--json"]) == 2
    assert says in capsys.readouterr().err
