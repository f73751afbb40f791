"""CUPED: adjusting on pre-period data keeps the effect and shrinks its variance."""

import numpy as np
import pytest

from clarion.stats import (
    CovariateStats,
    FrequentistSettings,
    MeanStats,
    cuped_adjust,
    cuped_theta,
    welch_t_test,
)

ABSOLUTE = FrequentistSettings(difference="absolute")


@pytest.fixture(scope="module")
def experiment():
    rng = np.random.default_rng(5)
    pre_a, pre_b = rng.normal(50, 10, 3000), rng.normal(50, 10, 3000)
    post_a = 0.8 * pre_a + rng.normal(10, 4, 3000)
    post_b = 0.8 * pre_b + rng.normal(11, 4, 3000)  # true effect +1
    return (pre_a, post_a), (pre_b, post_b)


def test_theta_is_the_pooled_regression_slope(experiment):
    (pre_a, post_a), (pre_b, post_b) = experiment
    arms = [CovariateStats.from_values(post_a, pre_a), CovariateStats.from_values(post_b, pre_b)]
    slope = np.polyfit(np.concatenate([pre_a, pre_b]), np.concatenate([post_a, post_b]), 1)[0]
    assert float(cuped_theta(arms)) == pytest.approx(slope)


def test_cuped_shrinks_the_standard_error_and_keeps_the_effect(experiment):
    (pre_a, post_a), (pre_b, post_b) = experiment
    raw = welch_t_test(MeanStats.from_values(post_a), MeanStats.from_values(post_b), ABSOLUTE)
    control, treatment = cuped_adjust(
        [CovariateStats.from_values(post_a, pre_a), CovariateStats.from_values(post_b, pre_b)]
    )
    adjusted = welch_t_test(control, treatment, ABSOLUTE)
    assert float(adjusted.standard_error) < 0.5 * float(raw.standard_error)
    assert float(adjusted.ci_lower) < 1.0 < float(adjusted.ci_upper)
    assert float(adjusted.p_value) < float(raw.p_value)


def test_adjusted_variance_is_the_residual_variance(experiment):
    (pre_a, post_a), (pre_b, post_b) = experiment
    arms = [CovariateStats.from_values(post_a, pre_a), CovariateStats.from_values(post_b, pre_b)]
    theta = float(cuped_theta(arms))
    control, _ = cuped_adjust(arms)
    residual = post_a - theta * pre_a
    assert float(control.variance) == pytest.approx(residual.var(ddof=1))
    assert float(control.unadjusted_mean) == pytest.approx(post_a.mean())


def test_uncorrelated_pre_period_changes_little():
    rng = np.random.default_rng(6)
    arms = [
        CovariateStats.from_values(rng.normal(10, 2, 2000), rng.normal(0, 1, 2000))
        for _ in range(2)
    ]
    raw = welch_t_test(arms[0].post, arms[1].post, ABSOLUTE)
    adjusted = welch_t_test(*cuped_adjust(arms), ABSOLUTE)
    assert float(adjusted.standard_error) == pytest.approx(float(raw.standard_error), rel=0.02)


def test_covariate_statistics_add_like_the_raw_data(experiment):
    (pre_a, post_a), _ = experiment
    halves = [
        CovariateStats.from_values(post_a[s], pre_a[s]) for s in (slice(0, 1000), slice(1000, None))
    ]
    whole = CovariateStats.from_values(post_a, pre_a)
    total = halves[0] + halves[1]
    assert float(total.covariance) == pytest.approx(float(whole.covariance))
