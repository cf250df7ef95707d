"""`omniroute simulate`: the simulated desk over the real routing core keeps its books,
repeats itself for a seed, and is as busy as the offered load says."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from omniroute.cli import main
from omniroute.simulate import Scenario, simulate

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
        "hour", "answered", "mean_wait_s", "service_level",
        "mean_ewt_quoted_s", "mean_wait_of_quoted_s",
    }  # fmt: skip
    assert sum(int(row["answered"]) for row in rows) > 400
    assert (tmp_path / "simulation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
