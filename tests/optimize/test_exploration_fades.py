"""Exploration fades as evidence grows: the same data gives steadier splits the longer it runs."""

from __future__ import annotations

import numpy as np

from clarion.optimize.allocator import UnitHistory, allocate
from clarion.optimize.contracts import BudgetPolicy
from clarion.stats.response_curves import ResponsePrior

PRIOR = ResponsePrior(reference_spend=100.0, expected_at_reference=2.0)
POLICY = BudgetPolicy(min_days=0, min_results=0, max_step_change=10)


def _histories(days: int) -> list[UnitHistory]:
    """Three units spending near 100 a day, converting 2, 3 and 4 times in 100 on average."""
    rng = np.random.default_rng(7)
    histories = []
    for rate in (0.02, 0.03, 0.04):
        spend = rng.uniform(70.0, 130.0, days)
        histories.append(UnitHistory(spend, rng.poisson(rate * spend).astype(float), PRIOR))
    return histories


def _spread_of_recommendations(days: int) -> float:
    """How far ten recommendations on the same data, with different draws, stray from each other."""
    histories = _histories(days)
    splits = [
        allocate(
            histories,
            np.zeros(3),
            np.full(3, 300.0),
            np.full(3, 100.0),
            remaining=300.0 * 10,
            days_left=10,
            policy=POLICY,
            rng=np.random.default_rng(seed),
        ).split
        for seed in range(10)
    ]
    return float(np.std(np.stack(splits), axis=0).max())


def test_a_month_of_data_gives_steadier_recommendations_than_a_few_days() -> None:
    early, late = _spread_of_recommendations(4), _spread_of_recommendations(30)
    assert late < early / 2
    assert late < 0.05 * 300.0  # the draws disagree by less than 5% of the day's budget
