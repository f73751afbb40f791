"""From sufficient statistics to a value with its uncertainty (delta method, via stats/)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

from clarion.analytics.contracts import Estimate, Sums
from clarion.analytics.dictionary import MetricDefinition
from clarion.core.metrics import Unit
from clarion.stats.sufficient import MeanStats, RatioStats

Z95: Final = 1.959963984540054


def estimate(definition: MetricDefinition, sums: Sums) -> Estimate:
    """The metric's value and a normal 95% interval from its sums (see ``estimates``)."""
    return estimates(definition, [sums])[0]


def estimates(definition: MetricDefinition, groups: Sequence[Sums]) -> list[Estimate]:
    """Value and 95% interval of one metric in many groups, computed as arrays at once.

    A total's error treats units as a sample of what the campaign could have produced
    (√n · sd of a unit); a ratio's is the delta method on Σx/Σy over units. A ratio whose
    denominator is zero has no value.
    """
    if not groups:
        return []
    columns = np.array(
        [
            (s.n, s.num_sum, s.num_sum_squares, s.den_sum, s.den_sum_squares, s.sum_products)
            for s in groups
        ],
        dtype=np.float64,
    )
    n, x, xx, y, yy, xy = columns.T
    numerator = MeanStats(n, x, xx)
    scale, offset = definition.scale, definition.offset
    if definition.denominator is None:
        value = x * scale + offset
        error = np.sqrt(np.maximum(numerator.variance * n, 0.0)) * abs(scale)
        defined = np.ones_like(n, dtype=bool)
    else:
        ratio = RatioStats(numerator, MeanStats(n, y, yy), xy)
        defined = y != 0
        value = np.divide(x, y, out=np.zeros_like(x), where=defined) * scale + offset
        per_unit = np.divide(np.maximum(ratio.variance, 0.0), n, out=np.zeros_like(n), where=n > 0)
        error = np.sqrt(per_unit) * abs(scale)
    low, high = value - Z95 * error, value + Z95 * error
    if definition.unit is Unit.RATE and offset == 0.0:  # a rate above 1 stays shown
        low, high = np.maximum(low, 0.0), np.minimum(high, np.maximum(value, 1.0))
    elif offset == 0.0:  # counts, money, seconds, ROAS cannot be negative
        low = np.maximum(low, 0.0)
    return [
        Estimate(float(value[i]), float(error[i]), float(low[i]), float(high[i]), sums)
        if defined[i]
        else Estimate(None, None, None, None, sums)
        for i, sums in enumerate(groups)
    ]
