"""A simulation scenario from a YAML file (`omniroute simulate --scenario FILE`): several
queues on their channels, teams with skills and shifts, a time-of-day profile, a bot.
docs/scenarios/retail.yaml is an example with every field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from omniroute.simulate import Demand, Scenario, Team
from shared.events import Channel

Hour = Annotated[float, Field(ge=0, le=24)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueueSpec(_Strict):
    name: str = Field(min_length=1)
    arrivals_per_hour: float = Field(gt=0, description="the day's average, before the profile")
    channel: Channel = Channel.CHAT
    skill: str | None = None
    aht_s: float | None = Field(None, gt=0, description="default: the scenario's aht_s")
    complexity: float = Field(1.0, ge=0, le=1, description="below complexity_threshold: the bot")
    bot_resolves: float = Field(0.0, ge=0, le=1, description="share of its bot chats solved")
    complex: bool = Field(False, description="counted in the right-skill share")
    wrap_up_s: int | None = Field(
        None, ge=0, le=3600, description="after-contact work; default: the scenario's"
    )


class TeamSpec(_Strict):
    agents: int = Field(gt=0)
    skills: tuple[str, ...] = ()
    capacity: dict[Channel, Annotated[int, Field(ge=0)]] = {Channel.CHAT: 1}
    shift: tuple[Hour, Hour] | None = Field(None, description="hours on duty, e.g. [8, 17]")


class ScenarioFile(_Strict):
    hours: float = Field(24, gt=0)
    seed: int = 1
    sl_target_s: float = Field(20, ge=0)
    aht_s: float = Field(300, gt=0)
    handle: Literal["exponential", "lognormal"] = "exponential"
    patience_s: float | None = Field(None, gt=0)
    policy: str = "omniroute"
    complexity_threshold: float = Field(0.0, ge=0, le=1)
    bot_s: float = Field(60, ge=0)
    wrap_up_s: int = Field(0, ge=0, le=3600, description="after-contact work after each close")
    profile: tuple[Annotated[float, Field(ge=0)], ...] = Field(
        (), description="24 relative arrival rates, hour 0 to 23"
    )
    queues: tuple[QueueSpec, ...] = Field(min_length=1)
    teams: tuple[TeamSpec, ...] = Field(min_length=1)

    def scenario(self) -> Scenario:
        return Scenario(
            agents=sum(team.agents for team in self.teams),
            arrival_rate_per_hour=sum(queue.arrivals_per_hour for queue in self.queues),
            aht_s=self.aht_s,
            sl_target_s=self.sl_target_s,
            hours=self.hours,
            patience_s=self.patience_s,
            handle=self.handle,
            seed=self.seed,
            policy=self.policy,
            profile=self.profile,
            complexity_threshold=self.complexity_threshold,
            bot_s=self.bot_s,
            wrap_up_s=self.wrap_up_s,
            demands=tuple(
                Demand(
                    queue.name,
                    queue.arrivals_per_hour,
                    skill=queue.skill,
                    complex=queue.complex,
                    channel=queue.channel,
                    aht_s=queue.aht_s,
                    complexity=queue.complexity,
                    bot_resolves=queue.bot_resolves,
                    wrap_up_s=queue.wrap_up_s,
                )
                for queue in self.queues
            ),
            teams=tuple(
                Team(team.agents, team.skills, tuple(team.capacity.items()), team.shift)
                for team in self.teams
            ),
        )


class ScenarioError(ValueError):
    """The file cannot be read as a scenario; the message says where and why."""


def load(path: Path) -> Scenario:
    """The scenario in `path`; what the desk could not serve (a channel no team takes,
    an unknown policy, a profile of other than 24 hours) the simulation itself refuses."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ScenarioError(f"{path}: {error}") from error
    try:
        return ScenarioFile.model_validate(raw).scenario()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'scenario'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise ScenarioError(f"{path}: {problems}") from error
