"""What `omniroute simulate` writes without --json: a CSV of the run in time buckets and
a PNG of it (waits over time, service level, the EWT quoted against the wait had)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from statistics import fmean

from omniroute.simulate import Answer, Scenario

BUCKETS = 200  # points on the plot, whatever the length of the run


def buckets(answers: Sequence[Answer], scenario: Scenario) -> list[dict[str, float | int | None]]:
    width = scenario.hours * 3600 / BUCKETS
    grouped: list[list[Answer]] = [[] for _ in range(BUCKETS)]
    for answer in answers:
        grouped[min(BUCKETS - 1, int(answer.arrived_s // width))].append(answer)
    rows: list[dict[str, float | int | None]] = []
    for n, group in enumerate(grouped):
        quoted = [a for a in group if a.quoted_s is not None]
        rows.append(
            {
                "hour": round(n * width / 3600, 3),
                "answered": len(group),
                "mean_wait_s": fmean(a.waited_s for a in group) if group else None,
                "service_level": (
                    sum(a.waited_s <= scenario.sl_target_s for a in group) / len(group)
                    if group
                    else None
                ),
                "mean_ewt_quoted_s": fmean(a.quoted_s or 0.0 for a in quoted) if quoted else None,
                "mean_wait_of_quoted_s": fmean(a.waited_s for a in quoted) if quoted else None,
            }
        )
    return rows


def write(answers: Sequence[Answer], scenario: Scenario, out: Path) -> tuple[Path, Path]:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    rows = buckets(answers, scenario)
    out.mkdir(parents=True, exist_ok=True)
    table, picture = out / "simulation.csv", out / "simulation.png"
    with table.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    hours = [row["hour"] for row in rows]
    figure, (waits, level, ewt) = plt.subplots(3, 1, figsize=(10, 8), sharex=True)
    waits.plot(hours, [row["mean_wait_s"] for row in rows], color="#1f5fa8")
    waits.set_ylabel("mean wait (s)")
    level.plot(hours, [row["service_level"] for row in rows], color="#1f6f43")
    level.axhline(1.0, color="#c9d1da", linewidth=0.5)
    level.set_ylabel(f"answered in {scenario.sl_target_s:g} s")
    ewt.plot(hours, [row["mean_ewt_quoted_s"] for row in rows], label="EWT quoted", color="#b5651d")
    ewt.plot(
        hours, [row["mean_wait_of_quoted_s"] for row in rows], label="wait had", color="#1f5fa8"
    )
    ewt.set_ylabel("seconds")
    ewt.set_xlabel("simulated hour")
    ewt.legend(loc="upper right")
    figure.suptitle(
        f"{scenario.agents} agents, {scenario.arrival_rate_per_hour:g}/h, "
        f"AHT {scenario.aht_s:g} s, seed {scenario.seed}"
    )
    figure.tight_layout()
    figure.savefig(picture, dpi=100)
    plt.close(figure)
    return table, picture
