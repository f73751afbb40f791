"""A ratio hypothesis is judged on where the interval of first ÷ second lies, in any direction."""

from __future__ import annotations

import pytest

from clarion.reports.contracts import Interval
from clarion.reports.facts import judge_ratio, ratio_interval


@pytest.mark.parametrize(
    ("expected", "min_ratio", "low", "high", "verdict"),
    [
        ("higher", 2.0, 2.1, 3.0, "supported"),
        ("higher", 2.0, 1.5, 2.5, "inconclusive"),
        ("higher", 2.0, 1.1, 1.9, "refuted"),  # better, but not twice as good
        ("higher", None, 1.05, 1.4, "supported"),
        ("lower", 2.0, 0.2, 0.45, "supported"),  # half the CPA or less
        ("lower", 2.0, 0.4, 0.6, "inconclusive"),
        ("lower", 2.0, 0.6, 0.9, "refuted"),
        ("different", None, 1.1, 1.3, "supported"),
        ("different", None, 0.9, 1.1, "inconclusive"),  # no difference can never be shown
        ("different", 1.5, 0.8, 1.2, "refuted"),
    ],
)
def test_verdict_follows_the_interval(
    expected: str, min_ratio: float | None, low: float, high: float, verdict: str
) -> None:
    found, reason = judge_ratio(expected, min_ratio, Interval((low + high) / 2, low, high, 100))
    assert found == verdict, reason


def test_a_ratio_needs_two_positive_values() -> None:
    some = Interval(0.3, 0.25, 0.35, 400)
    assert ratio_interval(some, Interval(0.0, 0.0, 0.0, 400)) is None
    assert ratio_interval(some, Interval(None, None, None, 0)) is None
    ratio = ratio_interval(some, Interval(0.15, 0.12, 0.18, 400))
    assert ratio is not None and ratio.value == pytest.approx(2.0)
    assert ratio.low is not None and ratio.high is not None
    assert ratio.low < 2.0 < ratio.high
