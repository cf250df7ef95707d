"""`omniroute simulate --compare`: omniroute's routing against the policies its users
know from other tools, on the same simulated arrivals.

The desk: most conversations anyone can answer; a fifth are billing disputes and a tenth
fraud cases, complex ones that need a specialist, and a fifth of the agents are billing
specialists, a tenth fraud specialists. omniroute routes them by skill. Round robin
(Chatwoot), least busy (Rocket.Chat) and longest idle (Amazon Connect) assign among
all online agents, as those tools do, so a generalist often gets a complex case and,
without the skill, takes half as long again with it (`Scenario.unskilled_factor`).
The same seed gives every policy the same arrivals and patience.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from omniroute.simulate import Demand, Scenario, Simulation, Team
from services.router.core.policies import POLICIES

DEMANDS = (
    Demand("general", 0.7),
    Demand("billing", 0.2, skill="billing", complex=True),
    Demand("fraud", 0.1, skill="fraud", complex=True),
)
LABELS = {
    "omniroute": "omniroute (skills, occupancy, idle)",
    "round_robin": "round robin (Chatwoot)",
    "least_busy": "least busy (Rocket.Chat)",
    "longest_idle": "longest idle (Amazon Connect)",
}


@dataclass(frozen=True)
class Row:
    policy: str
    offered: int
    service_level: float
    asa_s: float
    abandon_rate: float
    right_skill_share: float | None
    load_spread: float  # busiest agent's busy time / the mean


def desk(base: Scenario) -> Scenario:
    """The comparison's desk with the size, load and times of `base`."""
    billing = max(1, round(base.agents * 0.2))
    fraud = max(1, round(base.agents * 0.1))
    teams = (
        Team(base.agents - billing - fraud),
        Team(billing, ("billing",)),
        Team(fraud, ("fraud",)),
    )
    return dataclasses.replace(base, demands=DEMANDS, teams=teams)


def compare(base: Scenario, progress: Callable[[float], None] | None = None) -> list[Row]:
    rows = []
    for n, name in enumerate(POLICIES):
        scenario = dataclasses.replace(desk(base), policy=name, skill_routing=name == "omniroute")
        simulation = Simulation(scenario)
        result = simulation.run()
        rows.append(
            Row(
                policy=name,
                offered=result.offered,
                service_level=result.service_level,
                asa_s=result.asa_s,
                abandon_rate=result.abandon_rate,
                right_skill_share=simulation.right_skill_share(),
                load_spread=simulation.load_spread(),
            )
        )
        if progress is not None:
            progress((n + 1) / len(POLICIES))
    return rows


def table(rows: list[Row], base: Scenario) -> str:
    lines = [
        f"{'policy':<36} {'SL ' + str(int(base.sl_target_s)) + ' s':>8} {'ASA s':>7} "
        f"{'abandoned':>9} {'right skill':>11} {'max/mean load':>13}",
    ]
    for row in rows:
        skill = "-" if row.right_skill_share is None else f"{row.right_skill_share:.0%}"
        lines.append(
            f"{LABELS[row.policy]:<36} {row.service_level:>8.1%} {row.asa_s:>7.1f} "
            f"{row.abandon_rate:>9.1%} {skill:>11} {row.load_spread:>13.2f}"
        )
    return "\n".join(lines)


def draw(rows: list[Row], base: Scenario, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    out.mkdir(parents=True, exist_ok=True)
    figure, axes = pyplot.subplots(1, 5, figsize=(17, 3.6))
    names = [LABELS[row.policy].split(" (")[0] for row in rows]
    panels = (
        (f"service level ({int(base.sl_target_s)} s)", [row.service_level for row in rows]),
        ("average speed of answer (s)", [row.asa_s for row in rows]),
        ("abandoned", [row.abandon_rate for row in rows]),
        ("complex cases to the right skill", [row.right_skill_share or 0.0 for row in rows]),
        ("busiest agent / mean load", [row.load_spread for row in rows]),
    )
    for axis, (title, values) in zip(axes, panels, strict=True):
        axis.bar(names, values, color=["#1f6f8b", "#9aa5b1", "#9aa5b1", "#9aa5b1"])
        axis.set_title(title, fontsize=10)
        axis.tick_params(axis="x", labelrotation=30, labelsize=8)
    figure.suptitle(
        f"{base.agents} agents, {base.arrival_rate_per_hour:g} conversations/h, "
        f"AHT {base.aht_s:g} s, {base.hours:g} h simulated, seed {base.seed}",
        fontsize=10,
    )
    figure.tight_layout()
    picture = out / "comparison.png"
    figure.savefig(picture, dpi=110)
    pyplot.close(figure)
    return picture
