"""The complexity evaluation set (tests/data/complexity_*.psv) and its scoring.

Each file alternates its rows between the half the rules were tuned on (`tune`)
and the half only reported on (`test`), so the reported accuracy is on messages
the rules were not fitted to.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from services.router.core.complexity import Classifier, Message
from shared.events import Channel

DATA = Path(__file__).resolve().parents[2] / "data"
THRESHOLD = 0.35  # the shipped default of RoutingRulesChanged.complexity_threshold


@dataclass(frozen=True)
class Example:
    language: str
    channel: Channel
    route: str
    intent: str
    text: str
    split: Literal["tune", "test"]


def examples() -> list[Example]:
    rows = []
    for path in sorted(DATA.glob("complexity_*.psv")):
        lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
        for n, line in enumerate(lines):
            language, channel, route, intent, text = line.split("|", 4)
            split: Literal["tune", "test"] = "tune" if n % 2 == 0 else "test"
            rows.append(Example(language, Channel(channel), route, intent, text, split))
    return rows


@dataclass(frozen=True)
class Report:
    total: int
    route_accuracy: float
    intent_accuracy: float
    confusion: Counter[tuple[str, str]]  # (expected, predicted) -> count
    misses: list[tuple[Example, str, float]]

    def table(self) -> str:
        labels = ("bot", "agent")
        lines = [
            f"route accuracy {self.route_accuracy:.1%} and intent accuracy "
            f"{self.intent_accuracy:.1%} on {self.total} messages",
            "expected \\ predicted |   bot | agent",
        ]
        for expected in labels:
            cells = " | ".join(f"{self.confusion[(expected, got)]:5d}" for got in labels)
            lines.append(f"{expected:>20} | {cells}")
        return "\n".join(lines)


def evaluate(classifier: Classifier, rows: list[Example]) -> Report:
    confusion: Counter[tuple[str, str]] = Counter()
    intents_right = 0
    misses = []
    for row in rows:
        assessment = classifier.assess(Message(text=row.text, channel=row.channel))
        route = "bot" if assessment.score < THRESHOLD else "agent"
        confusion[(row.route, route)] += 1
        found = assessment.intents or ("other",)
        intents_right += row.intent in found
        if route != row.route:
            misses.append((row, route, assessment.score))
    right = confusion[("bot", "bot")] + confusion[("agent", "agent")]
    return Report(len(rows), right / len(rows), intents_right / len(rows), confusion, misses)
