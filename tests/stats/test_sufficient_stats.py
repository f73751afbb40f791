"""Sufficient statistics: sums in, means and variances out, addable and frozen."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.stats import MeanStats, ProportionStats, RatioStats

values = st.lists(
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=0, max_size=30
)


def test_mean_stats_match_numpy_on_raw_values():
    x = np.array([3.0, 5.0, 8.0, 13.0])
    stats = MeanStats.from_values(x)
    assert float(stats.n) == 4
    assert float(stats.mean) == pytest.approx(x.mean())
    assert float(stats.variance) == pytest.approx(x.var(ddof=1))


def test_proportion_variance_is_bernoulli():
    stats = ProportionStats(n=200, sum=50)
    assert float(stats.mean) == 0.25
    assert float(stats.variance) == pytest.approx(0.25 * 0.75)
    assert float(stats.sum_squares) == 50


def test_empty_and_single_unit_have_zero_mean_and_variance():
    empty = MeanStats(n=0, sum=0, sum_squares=0)
    one = MeanStats.from_values([7.0])
    assert float(empty.mean) == 0 and float(empty.variance) == 0
    assert float(one.mean) == 7 and float(one.variance) == 0


def test_statistics_are_frozen():
    stats = MeanStats(n=10, sum=20, sum_squares=50)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.n = np.asarray(11.0)  # type: ignore[misc]


def test_adding_different_statistic_types_is_refused():
    with pytest.raises(TypeError):
        _ = MeanStats(n=1, sum=1, sum_squares=1) + ProportionStats(n=1, sum=1)  # type: ignore[operator]


@given(values, values)
def test_adding_equals_statistics_of_concatenated_values(xs, ys):
    added = MeanStats.from_values(np.array(xs)) + MeanStats.from_values(np.array(ys))
    joined = MeanStats.from_values(np.array(xs + ys))
    np.testing.assert_allclose(added.n, joined.n)
    np.testing.assert_allclose(added.sum, joined.sum, atol=1e-6)
    np.testing.assert_allclose(added.sum_squares, joined.sum_squares, rtol=1e-12, atol=1e-6)


@given(values, values, values)
def test_addition_is_associative(xs, ys, zs):
    a, b, c = (MeanStats.from_values(np.array(v)) for v in (xs, ys, zs))
    left, right = (a + b) + c, a + (b + c)
    np.testing.assert_allclose(left.n, right.n)
    np.testing.assert_allclose(left.sum, right.sum, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(left.sum_squares, right.sum_squares, rtol=1e-12, atol=1e-9)


def test_ratio_variance_is_the_delta_method_on_raw_values():
    rng = np.random.default_rng(7)
    sessions = rng.integers(1, 6, size=500).astype(float)
    revenue = sessions * rng.gamma(2.0, 5.0, size=500)
    stats = RatioStats.from_values(revenue, sessions)
    assert float(stats.mean) == pytest.approx(revenue.sum() / sessions.sum())
    mu_m, mu_d = revenue.mean(), sessions.mean()
    cov = np.cov(revenue, sessions, ddof=1)
    gradient = np.array([1 / mu_d, -mu_m / mu_d**2])
    assert float(stats.variance) == pytest.approx(gradient @ cov @ gradient)


def test_ratio_statistics_add_componentwise():
    a = RatioStats.from_values([1.0, 2.0], [1.0, 1.0])
    b = RatioStats.from_values([3.0], [2.0])
    total = a + b
    assert float(total.n) == 3
    assert float(total.mean) == pytest.approx(6.0 / 4.0)
    assert float(total.sum_products) == pytest.approx(1 + 2 + 6)
