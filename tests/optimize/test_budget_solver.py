"""The exact split: equal marginal returns, bounds kept, within 0.1% of an independent optimum."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from clarion.stats.budget_solver import Curves, optimal_split


def _random_curves(rng: np.random.Generator, units: int, terms: int = 1) -> Curves:
    return Curves(
        weight=rng.uniform(5, 50, size=(units, terms)),
        half=rng.uniform(50, 2000, size=(units, terms)),
        shape=rng.uniform(0.5, 1.0, size=(units, terms)),
    )


def _reference_optimum(curves: Curves, total: float, low: np.ndarray, high: np.ndarray) -> float:
    # An independent general-purpose solver from several starts, to check the bisection against.
    best = -np.inf
    rng = np.random.default_rng(0)
    for _ in range(5):
        start = low + rng.dirichlet(np.ones(curves.units)) * (total - low.sum())
        found = minimize(
            lambda x: -float(curves.response(x).sum()),
            np.clip(start, low, high),
            jac=lambda x: -curves.marginal(x),
            bounds=list(zip(low, high, strict=True)),
            constraints=[{"type": "eq", "fun": lambda x: float(x.sum()) - total}],
            method="SLSQP",
            options={"maxiter": 500, "ftol": 1e-12},
        )
        if abs(found.x.sum() - total) < 1e-6 * total:
            best = max(best, float(curves.response(found.x).sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("terms", [1, 3])
def test_the_split_is_within_a_tenth_of_a_percent_of_the_exact_optimum(
    seed: int, terms: int
) -> None:
    rng = np.random.default_rng(seed)
    curves = _random_curves(rng, units=int(rng.integers(3, 13)), terms=terms)
    low = rng.uniform(0, 50, curves.units)
    high = low + rng.uniform(200, 3000, curves.units)
    total = float(low.sum() + 0.4 * (high - low).sum())

    split = optimal_split(curves, total, low, high)

    assert split.sum() == pytest.approx(total, rel=1e-9)
    assert np.all(split >= low - 1e-9) and np.all(split <= high + 1e-9)
    assert curves.response(split).sum() >= _reference_optimum(curves, total, low, high) * 0.999


def test_units_inside_their_bounds_end_with_the_same_marginal_return() -> None:
    curves = Curves(
        weight=np.array([[10.0], [20.0], [40.0]]),
        half=np.array([[100.0], [300.0], [900.0]]),
        shape=np.array([[1.0], [0.7], [0.9]]),
    )
    split = optimal_split(curves, 900.0, np.zeros(3), np.full(3, 1e6))

    marginal = curves.marginal(split)
    assert marginal == pytest.approx(np.full(3, marginal[0]), rel=1e-3)


def test_a_batch_of_problems_is_solved_at_once() -> None:
    rng = np.random.default_rng(11)
    batch = Curves(
        weight=rng.uniform(5, 50, (4, 6, 1)),
        half=rng.uniform(50, 900, (4, 6, 1)),
        shape=rng.uniform(0.5, 1.0, (4, 6, 1)),
    )

    together = optimal_split(batch, 1500.0, np.zeros(6), np.full(6, 1000.0))

    for i in range(4):
        alone = Curves(batch.weight[i], batch.half[i], batch.shape[i])
        assert together[i] == pytest.approx(
            optimal_split(alone, 1500.0, np.zeros(6), np.full(6, 1000.0))
        )


def test_a_total_outside_the_bounds_is_refused_with_the_range() -> None:
    curves = Curves(weight=np.ones((2, 1)), half=np.ones((2, 1)), shape=np.ones((2, 1)))
    with pytest.raises(ValueError, match="outside what the bounds allow"):
        optimal_split(curves, 500.0, np.zeros(2), np.array([100.0, 100.0]))
