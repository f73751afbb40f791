"""Normal-approximation Bayesian test on the effect, with an optional Gaussian prior."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from clarion.stats.arrays import FloatArray, as_floats
from clarion.stats.effects import effect_moments
from clarion.stats.results import BayesianResult
from clarion.stats.settings import BayesianSettings
from clarion.stats.sufficient import Statistic

_DEFAULT = BayesianSettings()


def normal_risk(mean: FloatArray, sd: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Expected loss of shipping control, E[max(X, 0)], and of shipping treatment,
    E[max(−X, 0)], when the effect X is Normal(mean, sd²).
    """
    z = mean / sd
    spread = sd * sps.norm.pdf(z)
    return as_floats(mean * sps.norm.cdf(z) + spread), as_floats(-mean * sps.norm.cdf(-z) + spread)


def bayesian_normal_test(
    control: Statistic, treatment: Statistic, settings: BayesianSettings = _DEFAULT
) -> BayesianResult:
    """Posterior of the effect from its normal likelihood (the frequentist estimate and
    variance) and a Gaussian prior, as gbstats' effect test: chance to beat control,
    expected loss of either choice and an equal-tailed credible interval.
    """
    moments = effect_moments(control, treatment, settings.difference)
    prior = settings.prior
    base = np.abs(control.unadjusted_mean)
    prior_mean, prior_var = as_floats(prior.mean), as_floats(prior.variance)
    if settings.difference == "relative" and settings.prior_scale == "absolute":
        with np.errstate(divide="ignore", invalid="ignore"):
            prior_mean, prior_var = prior_mean / base, prior_var / base**2
    elif settings.difference == "absolute" and settings.prior_scale == "relative":
        prior_mean, prior_var = prior_mean * base, prior_var * base**2

    data_mean, data_var = moments.estimate, moments.variance
    if prior.proper:
        precision = 1.0 / data_var + 1.0 / prior_var
        mean = (data_mean / data_var + prior_mean / prior_var) / precision
    else:
        precision = 1.0 / data_var
        mean = data_mean
    sd = np.sqrt(1.0 / precision)

    beats = sps.norm.sf(0.0, loc=mean, scale=sd)
    risk_control, risk_treatment = normal_risk(mean, sd)
    if settings.inverse:
        beats = 1.0 - beats
        risk_control, risk_treatment = risk_treatment, risk_control
    half = settings.alpha / 2.0
    return BayesianResult(
        chance_to_win=as_floats(beats),
        expected=as_floats(mean),
        posterior_sd=as_floats(sd),
        ci_lower=as_floats(sps.norm.ppf(half, loc=mean, scale=sd)),
        ci_upper=as_floats(sps.norm.isf(half, loc=mean, scale=sd)),
        risk_control=risk_control,
        risk_treatment=risk_treatment,
        alpha=settings.alpha,
        difference=settings.difference,
        error=moments.error,
    )
