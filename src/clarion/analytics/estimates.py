"""From sufficient statistics to a value with its uncertainty (delta method, via stats/)."""

from __future__ import annotations

import math
from typing import Final

from clarion.analytics.contracts import Estimate, Sums
from clarion.analytics.dictionary import MetricDefinition
from clarion.core.metrics import Unit
from clarion.stats.sufficient import MeanStats, RatioStats

Z95: Final = 1.959963984540054


def estimate(definition: MetricDefinition, sums: Sums) -> Estimate:
    """The metric's value and a normal 95% interval from its sums.

    A total's error treats units as a sample of what the campaign could have produced
    (√n · sd of a unit); a ratio's is the delta method on Σx/Σy over units.
    """
    numerator = MeanStats(sums.n, sums.num_sum, sums.num_sum_squares)
    if definition.denominator is None:
        value = sums.num_sum * definition.scale + definition.offset
        error = math.sqrt(max(float(numerator.variance) * sums.n, 0.0)) * definition.scale
        return _interval(definition, value, error, sums)
    if sums.den_sum == 0:
        return Estimate(None, None, None, None, sums)
    ratio = RatioStats(
        numerator,
        MeanStats(sums.n, sums.den_sum, sums.den_sum_squares),
        sums.sum_products,
    )
    value = sums.num_sum / sums.den_sum * definition.scale + definition.offset
    variance = float(ratio.variance)
    error = math.sqrt(max(variance, 0.0) / sums.n) * abs(definition.scale) if sums.n else 0.0
    return _interval(definition, value, error, sums)


def _interval(definition: MetricDefinition, value: float, error: float, sums: Sums) -> Estimate:
    low, high = value - Z95 * error, value + Z95 * error
    if definition.unit is Unit.RATE:  # a rate above 1 (submits without a view) stays shown
        low, high = max(low, 0.0), min(high, max(value, 1.0))
    elif definition.offset == 0.0:  # counts, money, seconds, ROAS cannot be negative
        low = max(low, 0.0)
    return Estimate(value, error, low, high, sums)
