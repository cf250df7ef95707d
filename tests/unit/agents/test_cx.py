"""CSAT, NPS, containment and percentiles, with their edge cases."""

from __future__ import annotations

import pytest

from services.agents.cx import band, csat, nps, percentile, rate


def test_csat_is_the_share_of_fours_and_fives() -> None:
    assert csat([5, 4, 3, 1]) == 0.5
    assert csat([5]) == 1.0
    assert csat([1, 2, 3]) == 0.0
    assert csat([]) is None


def test_nps_counts_promoters_passives_and_detractors() -> None:
    figure = nps([10, 9, 8, 7, 6, 0])
    assert (figure.promoters, figure.passives, figure.detractors) == (2, 2, 2)
    assert figure.score == 0 and figure.band == "good"
    assert nps([10, 10, 10, 9]).score == 100
    assert nps([0, 3, 6]).score == -100
    assert nps([7, 8]).score == 0  # passives only
    empty = nps([])
    assert (empty.score, empty.band, empty.promoters) == (None, None, 0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-100, "needs work"),
        (-0.1, "needs work"),
        (0, "good"),
        (50, "good"),
        (50.1, "excellent"),
        (70, "excellent"),
        (70.1, "world class"),
        (100, "world class"),
    ],
)
def test_nps_bands(value: float, expected: str) -> None:
    assert band(value) == expected


def test_containment_and_response_rates() -> None:
    assert rate(3, 4) == 0.75
    assert rate(0, 4) == 0
    assert rate(0, 0) is None


def test_nearest_rank_percentiles() -> None:
    values = [30.0, 10.0, 20.0, 40.0, 50.0]
    assert percentile(values, 0.5) == 30
    assert percentile(values, 0.9) == 50
    assert percentile([7.0], 0.9) == 7
    assert percentile([], 0.5) is None
