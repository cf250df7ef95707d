"""Skill-based routing reproduces Wallace and Whitt (2005): with six skills, agents who
hold two skills each (in a chain: skills 1+2, 2+3, ..., 6+1) perform almost as well as
agents who hold all six, and far better than agents who hold one.

Ninety agents, fifteen per skill group, load 0.9, one kind of customer per skill, on
the real routing core (omniroute simulate's engine).
"""

from __future__ import annotations

from omniroute.simulate import Demand, Scenario, Simulation, Team

SKILLS = tuple(f"skill{k}" for k in range(1, 7))
PER_GROUP = 15


def asa_s(skills_of_group: list[tuple[str, ...]]) -> float:
    scenario = Scenario(
        agents=PER_GROUP * len(SKILLS),
        arrival_rate_per_hour=0.9 * PER_GROUP * len(SKILLS) * 3600 / 300,
        aht_s=300,
        hours=30,
        seed=5,
        demands=tuple(Demand(skill, 1 / len(SKILLS), skill=skill) for skill in SKILLS),
        teams=tuple(Team(PER_GROUP, skills) for skills in skills_of_group),
    )
    return Simulation(scenario).run().asa_s


def test_two_skills_per_agent_do_almost_as_well_as_all_six() -> None:
    one = asa_s([(skill,) for skill in SKILLS])
    chain = asa_s([(SKILLS[k], SKILLS[(k + 1) % 6]) for k in range(6)])
    all_six = asa_s([SKILLS] * 6)

    print(f"\nASA: one skill {one:.1f} s, two (chained) {chain:.1f} s, all six {all_six:.1f} s")
    assert all_six < chain < one
    # Two skills each win at least 90% of what full cross-training wins over one skill.
    assert (one - chain) / (one - all_six) >= 0.9
