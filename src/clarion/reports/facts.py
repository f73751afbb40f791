"""Facts from stored data: KPI targets beside results, and each hypothesis judged on its ratio."""

from __future__ import annotations

import math
from collections.abc import Mapping

from clarion.analytics.contracts import Estimate, MetricRow, TargetCheck
from clarion.analytics.dictionary import DEFINITIONS
from clarion.analytics.estimates import Z95
from clarion.analytics.queries import metric_rows
from clarion.analytics.scope import Scoped
from clarion.campaigns.plan import Hypothesis
from clarion.reports.contracts import (
    GroupResult,
    HypothesisResult,
    HypothesisVerdict,
    Interval,
    KpiResult,
    KpiVerdict,
)

_VERDICTS: dict[str, KpiVerdict] = {
    "on_track": "met",
    "off_track": "missed",
    "inconclusive": "inconclusive",
    "no_data": "no_data",
    "not_measured": "not_measured",
}
# The plan's dimension names where the metric dictionary names them differently.
_PLAN_DIMENSIONS = {"audience": "segment"}


def interval(estimate: Estimate | None) -> Interval | None:
    """The estimate as a report interval; None when there is none."""
    if estimate is None:
        return None
    return Interval(estimate.value, estimate.low, estimate.high, estimate.sums.n)


def kpi_result(check: TargetCheck) -> KpiResult:
    """A KPI target check as the report shows it: on track means met, off track missed."""
    return KpiResult(
        metric=check.metric,
        text=check.text,
        target=check.target,
        expected_by_now=check.expected_by_now,
        actual=interval(check.actual),
        pacing=check.pacing,
        verdict=_VERDICTS[check.status],
        reason=check.reason,
    )


def _group_estimate(
    scope: Scoped, refs: tuple[str, ...], metric: str, group: Mapping[str, str]
) -> Interval:
    dims = {_PLAN_DIMENSIONS.get(k, k): v for k, v in group.items()}
    rows: list[MetricRow] = metric_rows(scope, [metric], sorted(dims), campaign_refs=refs)
    for row in rows:
        if all(row.group[d] == v for d, v in dims.items()):
            found = interval(row.metrics[metric])
            if found is not None:
                return found
    return Interval(None, None, None, 0)


def ratio_interval(first: Interval, second: Interval) -> Interval | None:
    """first ÷ second with a 95% interval by the delta method on the log of the ratio.

    The two groups are independent samples, so the variance of log(a/b) is the sum of each
    side's (se/value)². None when either side has no positive value.
    """
    a, b = first.value, second.value
    if a is None or b is None or a <= 0 or b <= 0:
        return None
    se_a = _std_error(first)
    se_b = _std_error(second)
    ratio = a / b
    se_log = math.sqrt((se_a / a) ** 2 + (se_b / b) ** 2)
    return Interval(
        ratio,
        ratio * math.exp(-Z95 * se_log),
        ratio * math.exp(Z95 * se_log),
        min(first.n, second.n),
    )


def _std_error(measured: Interval) -> float:
    # The analytics interval is value ± Z95·se, clipped at bounds; the wider half recovers se.
    assert measured.value is not None
    low = measured.low if measured.low is not None else measured.value
    high = measured.high if measured.high is not None else measured.value
    return max(measured.value - low, high - measured.value) / Z95


def judge_ratio(
    expected: str, min_ratio: float | None, ratio: Interval
) -> tuple[HypothesisVerdict, str]:
    """Supported, refuted or inconclusive from where the ratio's interval lies.

    "higher" with min_ratio r needs the whole interval above r; "lower" below 1/r;
    "different" outside [1/r, r]. The hypothesis is refuted when the whole interval lies on
    the other side, and inconclusive when it straddles the threshold.
    """
    assert ratio.low is not None and ratio.high is not None
    r = min_ratio if min_ratio is not None else 1.0
    span = f"the ratio's 95% interval [{ratio.low:.3g}, {ratio.high:.3g}]"
    if expected == "higher":
        supported, refuted, edge = ratio.low > r, ratio.high < r, f"{r:.3g}"
    elif expected == "lower":
        supported, refuted, edge = ratio.high < 1 / r, ratio.low > 1 / r, f"{1 / r:.3g}"
    else:
        supported = ratio.low > r or ratio.high < 1 / r
        refuted = r > 1 and 1 / r < ratio.low and ratio.high < r
        edge = f"[{1 / r:.3g}, {r:.3g}]"
    if supported:
        return "supported", f"{span} lies on the hypothesis's side of {edge}"
    if refuted:
        return "refuted", f"{span} lies on the other side of {edge}"
    return "inconclusive", f"{span} straddles {edge}"


def hypothesis_result(
    scope: Scoped, refs: tuple[str, ...], hypothesis: Hypothesis
) -> HypothesisResult:
    """Measure the hypothesis's metric over each group and judge the ratio first ÷ second."""
    first_group, second_group = ({str(k): v for k, v in g.items()} for g in hypothesis.groups)
    min_ratio = None if hypothesis.min_ratio is None else float(hypothesis.min_ratio)
    if hypothesis.metric not in DEFINITIONS:
        empty = Interval(None, None, None, 0)
        return HypothesisResult(
            key=hypothesis.key,
            statement=hypothesis.statement,
            metric=hypothesis.metric,
            expected=hypothesis.expected,
            min_ratio=min_ratio,
            groups=(GroupResult(first_group, empty), GroupResult(second_group, empty)),
            ratio=None,
            verdict="no_data",
            reason=f"{hypothesis.metric} is not in the metric dictionary",
        )
    first = _group_estimate(scope, refs, hypothesis.metric, first_group)
    second = _group_estimate(scope, refs, hypothesis.metric, second_group)
    ratio = ratio_interval(first, second)
    if ratio is None:
        verdict: HypothesisVerdict = "no_data"
        reason = "one of the groups has no measured value above zero"
    else:
        verdict, reason = judge_ratio(hypothesis.expected, min_ratio, ratio)
    return HypothesisResult(
        key=hypothesis.key,
        statement=hypothesis.statement,
        metric=hypothesis.metric,
        expected=hypothesis.expected,
        min_ratio=min_ratio,
        groups=(GroupResult(first_group, first), GroupResult(second_group, second)),
        ratio=ratio,
        verdict=verdict,
        reason=reason,
    )
