"""Plain-language sentences for comparisons and decisions, as the report will quote them."""

from __future__ import annotations

import math

from clarion.core.metrics import Unit, metric
from clarion.experiments.contracts import Comparison, ExperimentResults


def variant_label(key: str) -> str:
    """``b`` → ``B``; longer keys are shown as written."""
    return key.upper() if len(key) == 1 else key


def metric_label(name: str) -> str:
    return name.replace("_", " ")


def _signed(value: float, digits: int) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "+∞" if value > 0 else "−∞"
    text = f"{abs(value):,.{digits}f}"
    return ("+" if value >= 0 else "−") + text


def amount(metric_name: str, value: float) -> str:
    """An effect in the metric's units: percentage points for rates, plain numbers otherwise."""
    if metric(metric_name).unit == Unit.RATE:
        return _signed(value * 100, 1) + " pp"
    return _signed(value, 2)


def interval(c: Comparison, confidence: float) -> str:
    if metric(c.metric).unit == Unit.RATE:
        lo, hi = _signed(c.ci_lower * 100, 1), _signed(c.ci_upper * 100, 1)
    else:
        lo, hi = _signed(c.ci_lower, 2), _signed(c.ci_upper, 2)
    return f"{confidence:.0%} CI {lo} to {hi}"


def percent(p: float) -> str:
    """A chance as ``99.4%``; never a rounded ``100.0%`` or ``0.0%``, which would overclaim."""
    if math.isnan(p):
        return "n/a"
    if p > 0.999:
        return ">99.9%"
    if p < 0.001:
        return "<0.1%"
    return f"{p * 100:.1f}%"


def effect(c: Comparison, confidence: float) -> str:
    """``+1.8 pp (95% CI +0.6 to +3.0), chance to beat 99.4%``."""
    return (
        f"{amount(c.metric, c.estimate)} ({interval(c, confidence)}), "
        f"chance to beat {percent(c.chance_to_beat)}"
    )


def describe(c: Comparison, confidence: float) -> str:
    """One comparison in one sentence, whatever it found."""
    who, base = variant_label(c.challenger), variant_label(c.baseline)
    what = metric_label(c.metric)
    if c.error:
        reason = {
            "insufficient_data": "too few exposed contacts",
            "zero_variance": "no variation in the outcome yet",
            "baseline_zero": "a baseline of zero",
        }.get(c.error, c.error)
        return f"{who} vs {base} on {what}: not analysable yet ({reason})."
    if c.improves:
        verb = "beats"
    elif c.worsens:
        verb = "loses to"
    else:
        verb = "is not distinguishable from"
    return f"{who} {verb} {base} on {what}: {effect(c, confidence)}."


def progress(results: ExperimentResults) -> str:
    """``3,100 of 14,800 planned contacts exposed`` (or just the count without a horizon)."""
    if results.planned_sample_size:
        return f"{results.exposed:,} of {results.planned_sample_size:,} planned contacts exposed"
    return f"{results.exposed:,} contacts exposed"
