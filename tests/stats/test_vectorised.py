"""Every test takes arrays of metrics: 100 metrics at once equal 100 calls in a loop."""

import numpy as np
import pytest

from clarion.stats import (
    BetaBinomialSettings,
    GroupSequentialSettings,
    MeanStats,
    ProportionStats,
    always_valid_test,
    bayesian_normal_test,
    beta_binomial_test,
    group_sequential_test,
    two_proportion_z_test,
    welch_t_test,
)

M = 100


@pytest.fixture(scope="module")
def mean_arms():
    rng = np.random.default_rng(100)
    n_a, n_b = rng.integers(200, 5000, M), rng.integers(200, 5000, M)
    mean_a, mean_b = rng.uniform(5, 15, M), rng.uniform(5, 15, M)
    var_a, var_b = rng.uniform(1, 20, M), rng.uniform(1, 20, M)
    var_b[7] = 0.0  # one metric that cannot be analysed
    control = MeanStats(n_a, n_a * mean_a, (n_a - 1) * var_a + n_a * mean_a**2)
    treatment = MeanStats(n_b, n_b * mean_b, (n_b - 1) * var_b + n_b * mean_b**2)
    return control, treatment


@pytest.fixture(scope="module")
def proportion_arms():
    rng = np.random.default_rng(101)
    n = rng.integers(100, 3000, (2, M))
    converted = rng.binomial(n, rng.uniform(0.01, 0.3, (2, M)))
    converted[0, 3] = 0  # a control without conversions
    return ProportionStats(n[0], converted[0]), ProportionStats(n[1], converted[1])


def _metric(stats, i):
    if isinstance(stats, MeanStats):
        return MeanStats(stats.n[i], stats.sum[i], stats.sum_squares[i])
    return ProportionStats(stats.n[i], stats.sum[i])


def _assert_same(batch, singles, fields):
    for field in fields:
        looped = np.array([float(getattr(s, field)) for s in singles])
        np.testing.assert_allclose(getattr(batch, field), looped, rtol=1e-12, equal_nan=True)
    assert batch.errors == tuple(s.errors[0] for s in singles)


FREQUENTIST_FIELDS = ["estimate", "standard_error", "ci_lower", "ci_upper", "p_value"]
BAYESIAN_FIELDS = ["chance_to_win", "expected", "ci_lower", "ci_upper", "risk_control"]


@pytest.mark.parametrize(
    ("test", "fields"),
    [
        (welch_t_test, FREQUENTIST_FIELDS),
        (always_valid_test, FREQUENTIST_FIELDS),
        (bayesian_normal_test, BAYESIAN_FIELDS),
        (
            lambda a, b: group_sequential_test(a, b, [0.5, 1.0], GroupSequentialSettings()),
            ["statistic", "ci_lower"],
        ),
    ],
)
def test_mean_metrics_batch_equals_loop(mean_arms, test, fields):
    control, treatment = mean_arms
    batch = test(control, treatment)
    singles = [test(_metric(control, i), _metric(treatment, i)) for i in range(M)]
    _assert_same(batch, singles, fields)
    assert batch.errors[7] == "zero_variance"


@pytest.mark.parametrize(
    ("test", "fields"),
    [
        (two_proportion_z_test, FREQUENTIST_FIELDS),
        (beta_binomial_test, BAYESIAN_FIELDS),
        (
            lambda a, b: beta_binomial_test(a, b, BetaBinomialSettings(difference="absolute")),
            BAYESIAN_FIELDS,
        ),
    ],
)
def test_proportion_metrics_batch_equals_loop(proportion_arms, test, fields):
    control, treatment = proportion_arms
    batch = test(control, treatment)
    singles = [test(_metric(control, i), _metric(treatment, i)) for i in range(M)]
    _assert_same(batch, singles, fields)
