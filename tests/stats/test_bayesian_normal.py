"""Normal-approximation Bayesian test: posterior quantities checked by direct integration."""

import numpy as np
import pytest
from scipy import integrate, stats

from clarion.stats import (
    BayesianSettings,
    GaussianPrior,
    MeanStats,
    ProportionStats,
    bayesian_normal_test,
    effect_moments,
)

CONTROL = ProportionStats(n=5000, sum=500)
TREATMENT = ProportionStats(n=5000, sum=540)


def test_flat_prior_posterior_is_the_likelihood():
    result = bayesian_normal_test(CONTROL, TREATMENT)
    moments = effect_moments(CONTROL, TREATMENT, "relative")
    sd = float(np.sqrt(moments.variance))
    assert float(result.expected) == pytest.approx(0.08)
    assert float(result.posterior_sd) == pytest.approx(sd)
    assert float(result.chance_to_win) == pytest.approx(stats.norm.cdf(0.08 / sd))
    assert float(result.ci_lower) == pytest.approx(0.08 - 1.959963984540054 * sd)


def test_expected_loss_matches_numerical_integration():
    result = bayesian_normal_test(CONTROL, TREATMENT, BayesianSettings(difference="absolute"))
    mu, sd = float(result.expected), float(result.posterior_sd)
    density = stats.norm(mu, sd).pdf
    lose_by_control, _ = integrate.quad(lambda x: x * density(x), 0, mu + 12 * sd)
    lose_by_treatment, _ = integrate.quad(lambda x: -x * density(x), mu - 12 * sd, 0)
    assert float(result.risk_control) == pytest.approx(lose_by_control, rel=1e-8)
    assert float(result.risk_treatment) == pytest.approx(lose_by_treatment, rel=1e-6)


def test_inverse_metric_flips_chance_and_risks():
    plain = bayesian_normal_test(CONTROL, TREATMENT)
    inverse = bayesian_normal_test(CONTROL, TREATMENT, BayesianSettings(inverse=True))
    assert float(inverse.chance_to_win) == pytest.approx(1 - float(plain.chance_to_win))
    assert float(inverse.risk_control) == pytest.approx(float(plain.risk_treatment))
    assert float(inverse.risk_treatment) == pytest.approx(float(plain.risk_control))


def test_proper_prior_shrinks_towards_its_mean():
    tight = BayesianSettings(prior=GaussianPrior(mean=0.0, variance=0.001, proper=True))
    flat = bayesian_normal_test(CONTROL, TREATMENT)
    shrunk = bayesian_normal_test(CONTROL, TREATMENT, tight)
    assert 0 < float(shrunk.expected) < float(flat.expected)
    assert float(shrunk.posterior_sd) < float(flat.posterior_sd)


def test_empty_arm_is_an_error_not_a_number():
    result = bayesian_normal_test(MeanStats(0, 0, 0), MeanStats(100, 500, 3000))
    assert result.errors == ("insufficient_data",)
    assert np.isnan(result.chance_to_win)
