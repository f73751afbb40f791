"""The allocator: fit each unit's response, Thompson-sample splits, keep within the guard rails."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clarion.optimize.contracts import BudgetPolicy, Expected
from clarion.optimize.guard_rails import (
    StepBounds,
    paced_daily_total,
    scale_into,
    step_bounds,
    thin_data,
)
from clarion.stats.arrays import FloatArray, as_floats
from clarion.stats.budget_solver import Curves, optimal_split
from clarion.stats.response_curves import (
    ResponsePosterior,
    ResponsePrior,
    drawn_curves,
    fit_responses,
    mean_curves,
)

DECISION_DRAWS = 8  # Thompson draws averaged into one split: explores, without daily whiplash
DRAWS_PER_DAY = 2  # more draws averaged per day of data: exploration fades as evidence grows (0041)
UNIT_DRAWS = 800  # at most this many unit-curves solved per step, so 100 units stay fast (0041)
CHANGE_PER_DAY = 0.02  # prior probability that a unit's level changes on a given day (0035)
EFFECT_DRAWS = 400  # posterior draws behind the expected effect's interval


@dataclass(frozen=True)
class UnitHistory:
    """One unit's observed days, oldest first, and its prior belief."""

    spend: FloatArray
    results: FloatArray
    prior: ResponsePrior


@dataclass(frozen=True)
class Allocation:
    """One step's split (money per day per unit), its expected effect, and why it looks so."""

    split: FloatArray
    daily_total: float
    expected: Expected
    frozen: bool
    notes: tuple[str, ...]


def _expected(
    posteriors: Sequence[ResponsePosterior],
    split: FloatArray,
    current: FloatArray | None,
    rng: np.random.Generator,
) -> Expected:
    draws = drawn_curves(list(posteriors), rng, EFFECT_DRAWS)
    totals = draws.response(split).sum(-1)
    base = current if current is not None else split
    deltas = totals - draws.response(base).sum(-1)
    low, high = np.quantile(totals, [0.05, 0.95])
    d_low, d_high = np.quantile(deltas, [0.05, 0.95])
    return Expected(
        results_per_day=float(mean_curves(list(posteriors)).response(split).sum()),
        low=float(low),
        high=float(high),
        change_vs_current=float(deltas.mean()),
        change_low=float(d_low),
        change_high=float(d_high),
    )


def _cpa_capped_total(
    curves: Curves, bounds: StepBounds, target_cpa: float
) -> tuple[float, str | None]:
    """The largest day's total whose expected CPA stays at or below the target."""

    def cpa(total: float) -> float:
        split = optimal_split(curves, total, bounds.low, bounds.high)
        results = float(curves.response(split).sum())
        return total / results if results > 0 else float("inf")

    lowest = float(bounds.low.sum())
    if cpa(bounds.daily_total) <= target_cpa:
        return bounds.daily_total, None
    if lowest <= 0 or cpa(lowest) > target_cpa:
        return lowest, "even the minimum spend is expected above the target CPA"
    lo, hi = lowest, bounds.daily_total
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cpa(mid) <= target_cpa else (lo, mid)
    return lo, "spend held below pace: more would push the expected CPA above target"


def allocate(
    histories: Sequence[UnitHistory],
    minimum: FloatArray,
    maximum: FloatArray,
    current: FloatArray | None,
    *,
    remaining: float,
    days_left: int,
    policy: BudgetPolicy,
    rng: np.random.Generator,
) -> Allocation:
    """Tomorrow's split: paced total, posterior curves, Thompson draws, all guard rails applied."""
    if not histories:
        raise ValueError("a budget needs at least one allocation unit")
    days = min(int(h.spend.size) for h in histories)
    posteriors = fit_responses(
        np.stack([h.spend[h.spend.size - days :] for h in histories]),
        np.stack([h.results[h.results.size - days :] for h in histories]),
        [h.prior for h in histories],
        half_life_days=policy.half_life_days,
        change_per_day=CHANGE_PER_DAY,
    )
    bounds = step_bounds(minimum, maximum, current, paced_daily_total(remaining, days_left), policy)
    notes = list(bounds.notes)
    results = float(sum(h.results.sum() for h in histories))
    frozen = thin_data(days, results, policy)
    if policy.objective == "cpa" and policy.target_cpa is not None and not frozen:
        total, note = _cpa_capped_total(mean_curves(posteriors), bounds, float(policy.target_cpa))
        if note:
            notes.append(note)
        if total < bounds.daily_total:
            low = np.minimum(bounds.low, total * bounds.low / max(bounds.low.sum(), 1e-12))
            bounds = StepBounds(total, as_floats(low), bounds.high, bounds.notes)
    if frozen:
        notes.append(
            f"split frozen: {days} day(s) and {results:g} result(s) of data, the policy needs"
            f" {policy.min_days} days and {policy.min_results:g} results before moving money"
        )
        start = current if current is not None else np.full(len(histories), 1.0)
        split = scale_into(start, bounds)
    else:
        draws = min(
            DECISION_DRAWS + DRAWS_PER_DAY * days,
            max(DECISION_DRAWS, UNIT_DRAWS // len(histories)),
        )
        drawn = drawn_curves(posteriors, rng, draws)
        splits = optimal_split(drawn, bounds.daily_total, bounds.low, bounds.high)
        split = as_floats(splits.mean(axis=0))
    return Allocation(
        split=split,
        daily_total=bounds.daily_total,
        expected=_expected(posteriors, split, current, rng),
        frozen=frozen,
        notes=tuple(notes),
    )
