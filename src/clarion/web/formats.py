"""Numbers as the dashboard writes them: in the metric's unit, with the interval beside them."""

from __future__ import annotations

from clarion.analytics.contracts import Estimate
from clarion.core.metrics import METRICS, Unit


def unit_of(metric_name: str) -> Unit:
    """The metric's unit; a name outside the vocabulary is a plain count."""
    known = METRICS.get(metric_name)
    return known.unit if known is not None else Unit.COUNT


def number(value: float | None, unit: Unit, currency: str) -> str:
    """``1,234``, ``27.5%``, ``38.20 EUR``, ``3.10×``, ``95 s``; an em dash for no value."""
    if value is None:
        return "—"
    if unit == Unit.RATE:
        return f"{value * 100:.1f}%"
    if unit == Unit.MONEY:
        return f"{value:,.2f} {currency}"
    if unit == Unit.RATIO:
        return f"{value:.2f}×"
    if unit == Unit.SECONDS:
        return f"{value:,.0f} s"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def interval(estimate: Estimate | None, unit: Unit, currency: str) -> str | None:
    """``95% interval 24.1%–31.0%``, or None when there is no interval to show."""
    if estimate is None or estimate.low is None or estimate.high is None:
        return None
    if estimate.low == estimate.high:
        return None  # a census figure (money spent, rows counted): nothing was sampled
    low, high = number(estimate.low, unit, currency), number(estimate.high, unit, currency)
    return f"95% interval {low} – {high}"


def compact(value: float) -> str:
    """An axis label: 1.2k, 3.4M."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}".replace(".0", "")
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
