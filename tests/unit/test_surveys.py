"""Survey answers understood from digits, words in both languages and emoji."""

from __future__ import annotations

import pytest

from shared.surveys import question, score


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", 5),
        ("4/5", 4),
        ("I'd say 3", 3),
        ("cuatro", 4),
        ("Five!", 5),
        ("⭐⭐⭐⭐", 4),
        ("excellent service", 5),
        ("Excelente atención", 5),
        ("muy bien, gracias", 4),
        ("regular", 3),
        ("pésimo", 1),
        ("terrible", 1),
        ("😡", 1),
        ("🙂", 4),
        ("👎", 2),
        ("7", None),  # out of the 1-5 scale
        ("0", None),
        ("thanks", None),
        ("", None),
    ],
)
def test_csat_answers(text: str, expected: int | None) -> None:
    assert score("csat", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10", 10),
        ("0", 0),
        ("9 of course", 9),
        ("un 8", 8),
        ("diez", 10),
        ("zero", 0),
        ("seven", 7),
        ("11", None),
        ("excellent", None),  # NPS asks for a number
        ("no sé", None),
    ],
)
def test_nps_answers(text: str, expected: int | None) -> None:
    assert score("nps", text) == expected


def test_questions_in_the_customers_language() -> None:
    assert question("csat", "es").startswith("¿Qué tan satisfecho")
    assert question("nps", "en").startswith("How likely")
    assert question("nps", "fr") == question("nps", "en")
