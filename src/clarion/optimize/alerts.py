"""Alerts: a unit whose CPA is clearly beyond target, and a budget spent off pace."""

from __future__ import annotations

from collections.abc import Sequence

from scipy.stats import gamma

from clarion.optimize.contracts import Alert, BudgetPolicy

RECENT_DAYS = 7


def cpa_drift_alerts(
    names: Sequence[str],
    spend: Sequence[Sequence[float]],
    results: Sequence[Sequence[float]],
    policy: BudgetPolicy,
) -> list[Alert]:
    """Units whose CPA over the last week is beyond target (plus tolerance) even at the
    optimistic end of its 95% interval — noise alone does not raise the alarm."""
    if policy.target_cpa is None:
        return []
    limit = float(policy.target_cpa) * (1 + policy.cpa_drift_tolerance)
    alerts = []
    for name, unit_spend, unit_results in zip(names, spend, results, strict=True):
        cost = float(sum(unit_spend[-RECENT_DAYS:]))
        conversions = float(sum(unit_results[-RECENT_DAYS:]))
        if cost <= 0:
            continue
        upper = float(gamma.ppf(0.975, conversions + 1))  # exact Poisson upper bound
        best_cpa = cost / upper
        if best_cpa > limit:
            alerts.append(
                Alert(
                    "cpa_drift",
                    name,
                    f"{name}: CPA over the last {min(RECENT_DAYS, len(unit_spend))} days is at"
                    f" least {best_cpa:.2f} (95% interval), beyond the target"
                    f" {policy.target_cpa} + {policy.cpa_drift_tolerance:.0%}",
                )
            )
    return alerts


def pacing_alert(
    spent: float, total: float, days_elapsed: int, days_total: int, policy: BudgetPolicy
) -> Alert | None:
    """An alert when spend so far is off the straight line to the total by the end date."""
    if days_elapsed <= 0 or days_total <= 0 or total <= 0:
        return None
    expected = total * min(days_elapsed, days_total) / days_total
    off = spent / expected - 1
    if abs(off) <= policy.pacing_tolerance:
        return None
    direction = "ahead of" if off > 0 else "behind"
    return Alert(
        "pacing",
        None,
        f"spend {spent:.2f} is {abs(off):.0%} {direction} pace ({expected:.2f} expected"
        f" after {days_elapsed} of {days_total} days)",
    )
