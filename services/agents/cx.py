"""Customer-experience figures: CSAT, NPS, survey response, bot containment and time
percentiles. Plain functions; with nothing to count they give None, never 0, so a desk
with no answers does not read as a desk with bad ones."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

Band = Literal["needs work", "good", "excellent", "world class"]


class Nps(BaseModel):
    score: float | None  # % promoters (9-10) minus % detractors (0-6), -100 to 100
    promoters: int
    passives: int
    detractors: int
    band: Band | None


def csat(scores: Sequence[int]) -> float | None:
    """Share of satisfied answers: 4 or 5 on the 1-5 scale."""
    return sum(score >= 4 for score in scores) / len(scores) if scores else None


def nps(scores: Sequence[int]) -> Nps:
    promoters = sum(score >= 9 for score in scores)
    detractors = sum(score <= 6 for score in scores)
    passives = len(scores) - promoters - detractors
    value = 100 * (promoters - detractors) / len(scores) if scores else None
    return Nps(
        score=value,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        band=None if value is None else band(value),
    )


def band(value: float) -> Band:
    """Below 0 needs work, 0 to 50 good, above 50 excellent, above 70 world class."""
    if value < 0:
        return "needs work"
    if value <= 50:
        return "good"
    return "excellent" if value <= 70 else "world class"


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `share` of them at or
    below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]
