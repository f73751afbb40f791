"""Point estimate and delta-method variance of an absolute or relative effect, per metric."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clarion.stats.arrays import BoolArray, FloatArray, safe_divide
from clarion.stats.results import ErrorCode, StrArray, error_array
from clarion.stats.settings import Difference
from clarion.stats.sufficient import Statistic


@dataclass(frozen=True, eq=False)
class EffectMoments:
    """The effect of treatment over control and the variance of that estimate."""

    estimate: FloatArray
    variance: FloatArray
    error: StrArray

    @property
    def ok(self) -> BoolArray:
        return np.asarray(self.error == "", dtype=np.bool_)

    @property
    def standard_error(self) -> FloatArray:
        return np.sqrt(np.where(self.ok, self.variance, np.nan))


def effect_moments(
    control: Statistic,
    treatment: Statistic,
    difference: Difference,
    *,
    each_arm_varies: bool = True,
) -> EffectMoments:
    """Absolute (b − a) or relative ((b − a) / a) effect with its delta-method variance.

    With `each_arm_varies` (gbstats' rule) an arm with zero variance is an error;
    without it only a zero variance of the estimate is.

    The relative variance treats the two arms as independent and linearises b/a around
    the unadjusted means, as gbstats does; with CUPED the numerator uses adjusted means
    while the denominator stays the unadjusted control mean.
    """
    n_a, n_b = control.n, treatment.n
    var_a, var_b = control.variance, treatment.variance
    base = control.unadjusted_mean
    shape = np.broadcast_shapes(
        n_a.shape, n_b.shape, var_a.shape, var_b.shape, base.shape, treatment.mean.shape
    )
    checks: list[tuple[ErrorCode, BoolArray]] = [
        ("insufficient_data", (n_a < 2) | (n_b < 2)),
    ]
    if each_arm_varies:
        checks.append(("zero_variance", (var_a <= 0) | (var_b <= 0)))
    diff = treatment.mean - control.mean
    if difference == "relative":
        checks.append(("baseline_zero", (base == 0) | (control.mean == 0)))
        estimate = safe_divide(diff, base)
        variance = safe_divide(var_b, base**2 * n_b) + safe_divide(
            var_a * treatment.unadjusted_mean**2, base**4 * n_a
        )
    else:
        estimate = diff
        variance = safe_divide(var_b, n_b) + safe_divide(var_a, n_a)
    if not each_arm_varies:
        checks.append(("zero_variance", ~(variance > 0)))
    error = error_array(shape, checks)
    ok = np.asarray(error == "", dtype=np.bool_)
    return EffectMoments(
        estimate=np.where(ok, estimate, np.nan),
        variance=np.where(ok, variance, np.nan),
        error=error,
    )


def welch_dof(control: Statistic, treatment: Statistic) -> FloatArray:
    """Welch–Satterthwaite degrees of freedom of the two arms' per-unit variances."""
    va = safe_divide(control.variance, control.n)
    vb = safe_divide(treatment.variance, treatment.n)
    denom = safe_divide(va**2, control.n - 1) + safe_divide(vb**2, treatment.n - 1)
    return np.where(denom > 0, safe_divide((va + vb) ** 2, denom), np.nan)
