"""Always-valid inference: asymptotic confidence sequences that may be read at any time."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from clarion.stats.arrays import FloatArray, as_floats, safe_divide
from clarion.stats.effects import effect_moments
from clarion.stats.results import FrequentistResult
from clarion.stats.settings import SequentialSettings
from clarion.stats.sufficient import Statistic

_DEFAULT = SequentialSettings()


def sequential_rho(alpha: float, tuning_parameter: float) -> float:
    """Mixing scale ρ of the normal mixture, chosen so the sequence is tightest near
    `tuning_parameter` total units (Waudby-Smith et al. 2023, eq. 161; gbstats' choice).
    """
    log_alpha = np.log(alpha)
    return float(np.sqrt((-2.0 * log_alpha + np.log(-2.0 * log_alpha + 1.0)) / tuning_parameter))


def confidence_sequence_halfwidth(
    variance_per_unit: npt.ArrayLike,
    n: npt.ArrayLike,
    alpha: float,
    tuning_parameter: float,
) -> FloatArray:
    """Half-width of the two-sided normal-mixture confidence sequence after `n` units
    whose estimator has variance `variance_per_unit / n` (Howard et al. 2021, asymptotic).
    """
    s2 = as_floats(variance_per_unit)
    total = as_floats(n)
    rho2 = sequential_rho(alpha, tuning_parameter) ** 2
    scale = total * rho2 + 1.0
    width2 = safe_divide(2.0 * scale * np.log(np.sqrt(scale) / alpha), total**2 * rho2)
    return np.sqrt(s2 * width2)


def always_valid_test(
    control: Statistic, treatment: Statistic, settings: SequentialSettings = _DEFAULT
) -> FrequentistResult:
    """Two-sided always-valid test: the interval and p-value hold at every look, so the
    experiment can be read daily without inflating false positives (gbstats' sequential).
    """
    moments = effect_moments(control, treatment, settings.difference)
    total = control.n + treatment.n
    s2 = moments.variance * total
    width = confidence_sequence_halfwidth(s2, total, settings.alpha, settings.tuning_parameter)
    rho2 = sequential_rho(settings.alpha, settings.tuning_parameter) ** 2
    # The mixture e-value; its reciprocal is an always-valid p-value (eq. 155).
    st2 = safe_divide(moments.estimate**2 * total, moments.variance)
    scale = total * rho2 + 1.0
    log_evalue = rho2 * st2 / (2.0 * scale) - 0.5 * np.log(scale)
    p_value = np.exp(-np.maximum(log_evalue, 0.0))
    ok = moments.ok
    return FrequentistResult(
        estimate=moments.estimate,
        standard_error=moments.standard_error,
        ci_lower=moments.estimate - width,
        ci_upper=moments.estimate + width,
        p_value=np.where(ok, p_value, np.nan),
        statistic=safe_divide(moments.estimate, moments.standard_error) + np.where(ok, 0, np.nan),
        dof=np.where(ok, np.inf, np.nan),
        alpha=settings.alpha,
        difference=settings.difference,
        error=moments.error,
    )
