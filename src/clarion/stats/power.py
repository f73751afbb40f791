"""Power and sample-size planning for fixed-horizon tests of proportions and means."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from clarion.stats.arrays import FloatArray, as_floats
from clarion.stats.settings import Alternative


def _z_alpha(alpha: float, alternative: Alternative) -> float:
    return float(sps.norm.isf(alpha / 2.0 if alternative == "two_sided" else alpha))


def proportion_sample_size(
    p_control: npt.ArrayLike,
    p_treatment: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    alternative: Alternative = "two_sided",
) -> FloatArray:
    """Control-arm units for the pooled two-proportion z test to reach `power`
    (treatment gets `ratio` times as many); the normal-approximation formula without
    continuity correction (Fleiss), rounded up.
    """
    pa, pb = as_floats(p_control), as_floats(p_treatment)
    pooled = (pa + ratio * pb) / (1.0 + ratio)
    null_sd = np.sqrt(pooled * (1 - pooled) * (1.0 + 1.0 / ratio))
    alt_sd = np.sqrt(pa * (1 - pa) + pb * (1 - pb) / ratio)
    z_a, z_b = _z_alpha(alpha, alternative), float(sps.norm.isf(1.0 - power))
    with np.errstate(divide="ignore"):
        n = ((z_a * null_sd + z_b * alt_sd) / (pb - pa)) ** 2
    return as_floats(np.ceil(n))


def proportion_power(
    n_control: npt.ArrayLike,
    p_control: npt.ArrayLike,
    p_treatment: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    ratio: float = 1.0,
    alternative: Alternative = "two_sided",
) -> FloatArray:
    """Power of the pooled two-proportion z test with `n_control` and ratio·n units."""
    n = as_floats(n_control)
    pa, pb = as_floats(p_control), as_floats(p_treatment)
    pooled = (pa + ratio * pb) / (1.0 + ratio)
    null_se = np.sqrt(pooled * (1 - pooled) * (1.0 + 1.0 / ratio) / n)
    alt_se = np.sqrt((pa * (1 - pa) + pb * (1 - pb) / ratio) / n)
    z_a = _z_alpha(alpha, alternative)
    return as_floats(sps.norm.cdf((np.abs(pb - pa) - z_a * null_se) / alt_se))


def mean_sample_size(
    std: npt.ArrayLike,
    effect: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    alternative: Alternative = "two_sided",
) -> FloatArray:
    """Control-arm units for a normal test to detect an absolute `effect` on a metric
    with per-unit standard deviation `std` (treatment gets `ratio` times as many).
    """
    sd, delta = as_floats(std), as_floats(effect)
    z = _z_alpha(alpha, alternative) + float(sps.norm.isf(1.0 - power))
    with np.errstate(divide="ignore"):
        n = (z * sd / delta) ** 2 * (1.0 + 1.0 / ratio)
    return as_floats(np.ceil(n))


def mean_power(
    n_control: npt.ArrayLike,
    std: npt.ArrayLike,
    effect: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    ratio: float = 1.0,
    alternative: Alternative = "two_sided",
) -> FloatArray:
    """Power of a normal test of an absolute `effect` with `n_control` and ratio·n units."""
    se = as_floats(std) * np.sqrt((1.0 + 1.0 / ratio) / as_floats(n_control))
    shift = np.abs(as_floats(effect)) / se
    return as_floats(sps.norm.cdf(shift - _z_alpha(alpha, alternative)))


def minimum_detectable_effect(
    n_control: npt.ArrayLike,
    std: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    alternative: Alternative = "two_sided",
) -> FloatArray:
    """Smallest absolute effect a normal test detects with `power` at this sample size."""
    se = as_floats(std) * np.sqrt((1.0 + 1.0 / ratio) / as_floats(n_control))
    z = _z_alpha(alpha, alternative) + float(sps.norm.isf(1.0 - power))
    return as_floats(z * se)
