"""A/A calibration: read daily for 30 days, the sequential methods keep their promise.

A small version of the 10,000-run study: 400 A/A experiments, 100 units per arm per
day, each analysed after every day. All 400 experiments are one vectorised call per day.
"""

import numpy as np
import pytest

from clarion.stats import (
    FrequentistSettings,
    GroupSequentialSettings,
    MeanStats,
    SequentialSettings,
    always_valid_test,
    group_sequential_test,
    welch_t_test,
)

SIMS, DAYS, DAILY = 400, 30, 100
ABSOLUTE = "absolute"


@pytest.fixture(scope="module")
def daily_looks():
    rng = np.random.default_rng(20261122)
    looks = []
    control = MeanStats(np.zeros(SIMS), np.zeros(SIMS), np.zeros(SIMS))
    treatment = control
    for _ in range(DAYS):
        day = rng.exponential(3.0, (2, SIMS, DAILY))  # skewed, revenue-like, no true effect
        control = control + MeanStats.from_values(day[0])
        treatment = treatment + MeanStats.from_values(day[1])
        looks.append((control, treatment))
    return looks


def _ever_significant(results):
    return np.any(np.stack(results), axis=0).mean()


def test_naive_daily_peeking_inflates_false_positives(daily_looks):
    settings = FrequentistSettings(difference=ABSOLUTE)
    rate = _ever_significant([welch_t_test(a, b, settings).significant for a, b in daily_looks])
    assert rate > 0.15


def test_always_valid_sequence_holds_its_level(daily_looks):
    settings = SequentialSettings(difference=ABSOLUTE, tuning_parameter=3000)
    rate = _ever_significant(
        [always_valid_test(a, b, settings).significant for a, b in daily_looks]
    )
    assert rate <= 0.08


def test_alpha_spending_holds_its_level_over_the_planned_horizon(daily_looks):
    settings = GroupSequentialSettings(difference=ABSOLUTE)
    fractions = [(day + 1) / DAYS for day in range(DAYS)]
    crossed = [
        group_sequential_test(a, b, fractions[: day + 1], settings).crossed
        for day, (a, b) in enumerate(daily_looks)
    ]
    assert _ever_significant(crossed) <= 0.08
