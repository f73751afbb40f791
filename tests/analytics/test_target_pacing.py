"""Pacing: a total is expected to grow with the campaign, a rate is expected all along."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from clarion.analytics.contracts import Estimate, Sums
from clarion.analytics.pacing import check_target, elapsed_share
from clarion.campaigns.plan import KpiTarget

SUMS = Sums(30, 1.0, 1.0, 1.0, 1.0, 1.0)


def _estimate(value: float, low: float, high: float) -> Estimate:
    return Estimate(value, (high - low) / 3.92, low, high, SUMS)


@pytest.mark.parametrize(
    ("now", "share"),
    [
        (datetime(2027, 2, 20, tzinfo=UTC), 0.0),
        (datetime(2027, 3, 1, tzinfo=UTC), 0.0),
        (datetime(2027, 3, 11, tzinfo=UTC), 10 / 31),
        (datetime(2027, 3, 16, 12, tzinfo=UTC), 15.5 / 31),
        (datetime(2027, 4, 1, tzinfo=UTC), 1.0),
        (datetime(2027, 5, 1, tzinfo=UTC), 1.0),
    ],
)
def test_elapsed_share_counts_whole_campaign_days(now: datetime, share: float) -> None:
    assert elapsed_share(date(2027, 3, 1), date(2027, 3, 31), now) == pytest.approx(share)


@pytest.mark.parametrize(
    ("target", "actual", "elapsed", "expected", "status"),
    [
        # a total: 600 clicks by the end, half-way through 300 are expected
        ("clicks >= 600", _estimate(320, 290, 350), 0.5, 300, "inconclusive"),
        ("clicks >= 600", _estimate(400, 360, 440), 0.5, 300, "on_track"),
        ("clicks >= 600", _estimate(200, 180, 220), 0.5, 300, "off_track"),
        ("cost <= 1000 EUR", _estimate(600, 590, 610), 0.5, 500, "off_track"),
        # a rate or a ratio: the target itself, whatever the date
        ("open_rate >= 25%", _estimate(0.30, 0.27, 0.33), 0.1, 0.25, "on_track"),
        ("open_rate >= 25%", _estimate(0.26, 0.22, 0.30), 0.9, 0.25, "inconclusive"),
        ("cpa <= 40 EUR", _estimate(35, 31, 39), 0.5, 40, "on_track"),
        ("cpa <= 40 EUR", _estimate(50, 45, 55), 0.5, 40, "off_track"),
    ],
)
def test_verdicts_respect_the_interval(
    target: str, actual: Estimate, elapsed: float, expected: float, status: str
) -> None:
    check = check_target(KpiTarget.model_validate(target), actual, elapsed)
    assert check.expected_by_now == pytest.approx(expected)
    assert check.pacing == pytest.approx(actual.value / expected)  # type: ignore[operator]
    assert check.status == status, check.reason


def test_a_target_without_facts_or_definition_says_so() -> None:
    none_yet = check_target(
        KpiTarget.model_validate("cpa <= 40 EUR"),
        Estimate(None, None, None, None, Sums(0, 0, 0, 0, 0, 0)),
        0.5,
    )
    assert none_yet.status == "no_data" and none_yet.pacing is None
    unmeasured = check_target(KpiTarget.model_validate("clv >= 100 EUR"), None, 0.5)
    assert unmeasured.status == "not_measured" and "fitted model" in unmeasured.reason
