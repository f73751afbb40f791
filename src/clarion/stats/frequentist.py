"""Fixed-horizon frequentist tests: Welch t, normal z and the two-proportion z test."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from clarion.stats.arrays import FloatArray, as_floats, safe_divide, safe_sqrt
from clarion.stats.effects import EffectMoments, effect_moments, welch_dof
from clarion.stats.results import FrequentistResult, error_array
from clarion.stats.settings import FrequentistSettings
from clarion.stats.sufficient import ProportionStats, Statistic

_DEFAULT = FrequentistSettings()


def _tail_functions(dof: FloatArray) -> tuple[sps.rv_continuous, dict[str, FloatArray]]:
    if np.all(np.isinf(dof) | np.isnan(dof)):
        return sps.norm, {}
    return sps.t, {"df": dof}


def _result(
    moments: EffectMoments,
    dof: FloatArray,
    settings: FrequentistSettings,
    statistic: FloatArray | None = None,
) -> FrequentistResult:
    se = moments.standard_error
    est = moments.estimate
    crit = safe_divide(est - settings.test_value, se) if statistic is None else statistic
    crit = np.where(moments.ok, crit, np.nan)
    dist, kw = _tail_functions(dof)
    alpha = settings.alpha
    if settings.alternative == "two_sided":
        p = 2.0 * dist.sf(np.abs(crit), **kw)
        width = dist.ppf(1.0 - alpha / 2.0, **kw) * se
        lower, upper = est - width, est + width
    elif settings.alternative == "greater":
        p = dist.sf(crit, **kw)
        lower, upper = est - dist.ppf(1.0 - alpha, **kw) * se, np.full_like(est, np.inf)
    else:
        p = dist.cdf(crit, **kw)
        lower, upper = np.full_like(est, -np.inf), est + dist.ppf(1.0 - alpha, **kw) * se
    nan_unless_ok = np.where(moments.ok, 0.0, np.nan)
    return FrequentistResult(
        estimate=est,
        standard_error=se,
        ci_lower=as_floats(lower) + nan_unless_ok,
        ci_upper=as_floats(upper) + nan_unless_ok,
        p_value=np.minimum(as_floats(p), 1.0),
        statistic=crit,
        dof=np.where(moments.ok, dof, np.nan),
        alpha=alpha,
        difference=settings.difference,
        error=moments.error,
    )


def welch_t_test(
    control: Statistic, treatment: Statistic, settings: FrequentistSettings = _DEFAULT
) -> FrequentistResult:
    """Unequal-variance t test of treatment against control, as gbstats' TTest."""
    moments = effect_moments(control, treatment, settings.difference)
    dof = np.broadcast_to(welch_dof(control, treatment), moments.estimate.shape)
    return _result(moments, as_floats(dof), settings)


def z_test(
    control: Statistic, treatment: Statistic, settings: FrequentistSettings = _DEFAULT
) -> FrequentistResult:
    """Large-sample normal test of treatment against control (unpooled variances)."""
    moments = effect_moments(control, treatment, settings.difference)
    return _result(moments, np.full(moments.estimate.shape, np.inf), settings)


def two_proportion_z_test(
    control: ProportionStats,
    treatment: ProportionStats,
    settings: FrequentistSettings = _DEFAULT,
) -> FrequentistResult:
    """Textbook two-proportion z test: pooled standard error for the p-value under H0
    (p_a = p_b, so `test_value` must be 0), unpooled delta-method interval for the effect.
    """
    if settings.test_value != 0:
        raise ValueError("the pooled two-proportion test only tests a zero effect")
    moments = effect_moments(control, treatment, settings.difference, each_arm_varies=False)
    n = control.n + treatment.n
    pooled = safe_divide(control.sum + treatment.sum, n)
    se0 = safe_sqrt(
        pooled * (1 - pooled) * (safe_divide(1.0, control.n) + safe_divide(1.0, treatment.n))
    )
    z = safe_divide(treatment.mean - control.mean, se0)
    error = error_array(
        moments.error.shape,
        [("zero_variance", se0 <= 0)],
    )
    error = np.where(moments.error != "", moments.error, error)
    merged = EffectMoments(
        estimate=np.where(error == "", moments.estimate, np.nan),
        variance=np.where(error == "", moments.variance, np.nan),
        error=error,
    )
    return _result(merged, np.full(merged.estimate.shape, np.inf), settings, statistic=z)
