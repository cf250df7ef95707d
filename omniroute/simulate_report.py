"""What `omniroute simulate` writes without --json: a CSV of the run in time buckets and
a PNG of it (waits over time, service level, the EWT quoted against the wait had,
customers writing and agents on duty)."""

from __future__ import annotations

import csv
from pathlib import Path
from statistics import fmean

from omniroute.simulate import Answer, Simulation

BUCKETS = 200  # points on the plot, whatever the length of the run


def buckets(simulation: Simulation) -> list[dict[str, float | int | None]]:
    scenario = simulation.s
    width = scenario.hours * 3600 / BUCKETS
    grouped: list[list[Answer]] = [[] for _ in range(BUCKETS)]
    for answer in simulation.answers:
        grouped[min(BUCKETS - 1, int(answer.arrived_s // width))].append(answer)
    writing = [0] * BUCKETS
    for opened_s in simulation.opened_at.values():
        writing[min(BUCKETS - 1, int(opened_s // width))] += 1
    rows: list[dict[str, float | int | None]] = []
    for n, group in enumerate(grouped):
        quoted = [a for a in group if a.quoted_s is not None]
        start_s = n * width
        rows.append(
            {
                "hour": round(start_s / 3600, 3),
                "arrivals_per_hour": round(writing[n] * 3600 / width, 1),
                "agents_on_duty": next(
                    agents for since, agents in reversed(simulation.on_duty_log) if since <= start_s
                ),
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


def write(simulation: Simulation, out: Path) -> tuple[Path, Path]:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    scenario = simulation.s
    rows = buckets(simulation)
    out.mkdir(parents=True, exist_ok=True)
    table, picture = out / "simulation.csv", out / "simulation.png"
    with table.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    hours = [row["hour"] for row in rows]
    figure, (demand, waits, level, ewt) = plt.subplots(4, 1, figsize=(10, 10), sharex=True)
    demand.plot(hours, [row["arrivals_per_hour"] for row in rows], color="#6b4c9a")
    demand.set_ylabel("writing per hour", color="#6b4c9a")
    staff = demand.twinx()
    staff.step(hours, [row["agents_on_duty"] for row in rows], where="post", color="#444444")
    staff.set_ylabel("agents on duty")
    staff.set_ylim(bottom=0)
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
    if not any(row["mean_ewt_quoted_s"] is not None for row in rows):
        ewt.set_title("EWT is quoted for a one-queue desk only", fontsize=9)
    ewt.set_xlabel("simulated hour")
    ewt.legend(loc="upper right")
    wrap_up = f" + wrap-up {scenario.wrap_up_s} s" if scenario.wrap_up_s else ""
    figure.suptitle(
        f"{scenario.agents} agents, {scenario.arrival_rate_per_hour:g}/h, "
        f"AHT {scenario.aht_s:g} s{wrap_up}, seed {scenario.seed}"
    )
    figure.tight_layout()
    figure.savefig(picture, dpi=100)
    plt.close(figure)
    return table, picture
