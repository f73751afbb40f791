"""Guard rails: pacing, per-unit bounds, maximum change per step, exploration floor, freeze."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clarion.optimize.contracts import BudgetPolicy
from clarion.stats.arrays import FloatArray, as_floats


@dataclass(frozen=True)
class StepBounds:
    """What one allocation step may do: the day's total and each unit's lowest and highest spend."""

    daily_total: float
    low: FloatArray
    high: FloatArray
    notes: tuple[str, ...]


def paced_daily_total(remaining: float, days_left: int) -> float:
    """Spend what is left evenly over the days left, today included: all of it by the end date,
    none of it early."""
    if days_left <= 0:
        return 0.0
    return max(0.0, remaining) / days_left


def thin_data(days: int, results: float, policy: BudgetPolicy) -> bool:
    """True while there is too little data to move money on (the split is then frozen)."""
    return days < policy.min_days or results < policy.min_results


def step_bounds(
    minimum: FloatArray,
    maximum: FloatArray,
    current: FloatArray | None,
    daily_total: float,
    policy: BudgetPolicy,
) -> StepBounds:
    """Each unit's bounds for this step, every guard rail folded in, always feasible.

    When the rails cannot all hold, the order of precedence is: the units' own minimum and
    maximum, then pacing, then the exploration floor, then the maximum change per step; each
    relaxation is named in ``notes``.
    """
    notes: list[str] = []
    minimum, maximum = as_floats(minimum), as_floats(maximum)
    units = minimum.size
    if daily_total < minimum.sum():
        notes.append("the units' minimums exceed the paced daily total; spending the minimums")
        daily_total = float(minimum.sum())
    if daily_total > maximum.sum():
        notes.append("the units' maximums cap the day below the paced total")
        daily_total = float(maximum.sum())
    floor = np.minimum(policy.exploration_floor * daily_total / units, maximum)
    low = np.maximum(minimum, floor)
    if low.sum() > daily_total:
        notes.append("exploration floor lowered to fit the day's total")
        low = minimum.copy()
    high = maximum.copy()
    if current is not None:
        cur = as_floats(current)
        step = policy.max_step_change
        # The step is relative to a unit's spend, with a floor so a unit at zero can restart.
        slack = step * np.maximum(cur, daily_total / units)
        step_low = np.clip(cur - slack, low, high)
        step_high = np.clip(cur + slack, low, high)
        if step_low.sum() <= daily_total <= step_high.sum():
            low, high = step_low, step_high
        else:
            notes.append("maximum change per step relaxed to keep the budget on pace")
    return StepBounds(daily_total, as_floats(low), as_floats(np.maximum(high, low)), tuple(notes))


def scale_into(split: FloatArray, bounds: StepBounds) -> FloatArray:
    """``split`` scaled (and clipped to the bounds) so it sums to the day's total."""
    base = np.maximum(as_floats(split), 1e-9)
    lo, hi = 0.0, 1.0
    while float(np.clip(base * hi, bounds.low, bounds.high).sum()) < bounds.daily_total:
        hi *= 2
        if hi > 1e18:
            break
    for _ in range(200):
        mid = (lo + hi) / 2
        if float(np.clip(base * mid, bounds.low, bounds.high).sum()) < bounds.daily_total:
            lo = mid
        else:
            hi = mid
    return as_floats(np.clip(base * hi, bounds.low, bounds.high))
