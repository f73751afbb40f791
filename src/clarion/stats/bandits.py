"""Thompson-sampling bandits: posterior chance each arm is best, turned into traffic."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clarion.stats.arrays import FloatArray, IntArray, as_floats, safe_divide
from clarion.stats.results import BanditResult
from clarion.stats.sufficient import MeanStats, ProportionStats

Arm = ProportionStats | MeanStats


def _draws(arms: Sequence[Arm], rng: np.random.Generator, size: int) -> FloatArray:
    """Posterior draws, shape (size, *metric shape, arms): Beta(1 + s, 1 + n − s) for
    proportions, Normal(mean, variance / n) for means (an arm with under two units is
    drawn like one unit of the pooled data, so it still gets explored).
    """
    if not arms:
        raise ValueError("a bandit needs at least one arm")
    if all(isinstance(arm, ProportionStats) for arm in arms):
        columns = [
            rng.beta(1.0 + arm.sum, 1.0 + arm.n - arm.sum, size=(size, *arm.n.shape))
            for arm in arms
        ]
        return as_floats(np.stack(columns, axis=-1))
    if all(isinstance(arm, MeanStats) for arm in arms):
        means = [arm for arm in arms if isinstance(arm, MeanStats)]
        pooled = means[0]
        for arm in means[1:]:
            pooled = pooled + arm
        fallback = np.where(pooled.variance > 0, pooled.variance, 1.0)
        columns = []
        for arm in means:
            known = arm.n >= 2
            centre = np.where(known, arm.mean, pooled.mean)
            spread = np.sqrt(np.where(known, safe_divide(arm.variance, arm.n), fallback))
            columns.append(rng.normal(centre, spread, size=(size, *arm.n.shape)))
        return as_floats(np.stack(columns, axis=-1))
    raise TypeError("all arms must be proportions or all must be means")


def thompson_weights(
    arms: Sequence[Arm],
    rng: np.random.Generator,
    *,
    draws: int = 10_000,
    floor: float = 0.0,
    inverse: bool = False,
) -> BanditResult:
    """Chance each arm is best (Monte Carlo over posteriors) and traffic weights that
    follow it, each arm keeping at least `floor` of traffic. Arms are the last axis.
    """
    if not 0.0 <= floor * len(arms) <= 1.0:
        raise ValueError("floor times the number of arms must lie in [0, 1]")
    samples = _draws(arms, rng, draws)
    best = np.argmin(samples, axis=-1) if inverse else np.argmax(samples, axis=-1)
    counts = np.stack([np.mean(best == k, axis=0) for k in range(len(arms))], axis=-1)
    probability = as_floats(counts)
    weights = floor + (1.0 - floor * len(arms)) * probability
    return BanditResult(best_probability=probability, weights=as_floats(weights))


def thompson_pick(
    arms: Sequence[Arm], rng: np.random.Generator, size: int = 1, *, inverse: bool = False
) -> IntArray:
    """Arm index for each of `size` visitors: one posterior draw per arm, best draw wins."""
    samples = _draws(arms, rng, size)
    picked = np.argmin(samples, axis=-1) if inverse else np.argmax(samples, axis=-1)
    return np.asarray(picked, dtype=np.intp)
