"""KPI targets beside actuals: expected-by-now, pacing, and a verdict that respects the interval."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from clarion.analytics.contracts import Estimate, TargetCheck, TargetStatus
from clarion.analytics.dictionary import DEFINITIONS, NOT_DEFINED
from clarion.campaigns.plan import KpiTarget


def elapsed_share(start: date, end: date, now: datetime) -> float:
    """The share of the campaign's days (start 00:00 UTC to the end of its last day) gone by."""
    opens = datetime.combine(start, time(0), tzinfo=UTC)
    closes = datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC)
    share = (now - opens) / (closes - opens)
    return min(max(share, 0.0), 1.0)


def check_target(kpi: KpiTarget, actual: Estimate | None, elapsed: float) -> TargetCheck:
    """Compare one target with its actual.

    A total (clicks, cost) is expected to grow with time: by now it should be at the target ×
    the elapsed share. A rate or a ratio is expected at the target all along. The verdict is
    on or off track only when the whole 95% interval agrees; otherwise it is inconclusive.
    """
    target = float(kpi.value)
    definition = DEFINITIONS.get(kpi.metric)
    if definition is None:
        reason = NOT_DEFINED.get(kpi.metric, "not in the metric dictionary")
        return _check(kpi, None, expected=None, pacing=None, status="not_measured", reason=reason)
    expected = target * elapsed if definition.additive else target
    if actual is None or actual.value is None or actual.sums.n == 0:
        return _check(
            kpi, actual, expected=expected, pacing=None, status="no_data", reason="no facts yet"
        )
    pacing = actual.value / expected if expected else None
    low = actual.low if actual.low is not None else actual.value
    high = actual.high if actual.high is not None else actual.value
    status, reason = _verdict(kpi.comparator, low, high, expected)
    return _check(kpi, actual, expected=expected, pacing=pacing, status=status, reason=reason)


def _check(
    kpi: KpiTarget,
    actual: Estimate | None,
    *,
    expected: float | None,
    pacing: float | None,
    status: TargetStatus,
    reason: str,
) -> TargetCheck:
    return TargetCheck(
        metric=kpi.metric,
        comparator=kpi.comparator,
        target=float(kpi.value),
        text=str(kpi),
        actual=actual,
        expected_by_now=expected,
        pacing=pacing,
        status=status,
        reason=reason,
    )


def _verdict(comparator: str, low: float, high: float, expected: float) -> tuple[TargetStatus, str]:
    span = f"the 95% interval [{low:.4g}, {high:.4g}]"
    if comparator in ("<=", "<"):
        met, missed, words = high <= expected, low > expected, ("is within", "lies above")
    elif comparator in (">=", ">"):
        met, missed, words = low >= expected, high < expected, ("reaches", "lies below")
    else:
        met = low <= expected <= high
        missed, words = not met, ("holds", "misses")
    if met:
        return "on_track", f"{span} {words[0]} {expected:.4g}"
    if missed:
        return "off_track", f"{span} {words[1]} {expected:.4g}"
    return "inconclusive", f"{span} straddles {expected:.4g}"
