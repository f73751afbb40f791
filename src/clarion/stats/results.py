"""Frozen result types and the stable error codes a metric's analysis can end with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast, get_args

import numpy as np
import numpy.typing as npt

from clarion.stats.arrays import BoolArray, FloatArray
from clarion.stats.settings import Difference, Spending

ErrorCode = Literal[
    "insufficient_data",  # an arm has fewer than two units (or none)
    "zero_variance",  # an arm's outcome does not vary, so there is no standard error
    "baseline_zero",  # a relative effect was asked for but the control mean is zero
]
ERROR_CODES: tuple[ErrorCode, ...] = get_args(ErrorCode)

StrArray = npt.NDArray[np.str_]


def error_array(shape: tuple[int, ...], checks: Sequence[tuple[ErrorCode, BoolArray]]) -> StrArray:
    """One code per metric ("" when fine); the first failing check in `checks` wins."""
    out: StrArray = np.full(shape, "", dtype="<U24")
    for code, failed in reversed(checks):
        out = np.where(np.broadcast_to(failed, shape), code, out)
    return out


class _Errors:
    """Reading helpers shared by results that carry a per-metric `error` array."""

    error: StrArray

    @property
    def ok(self) -> BoolArray:
        """True where the metric was analysed; its numbers are NaN otherwise."""
        return np.asarray(self.error == "", dtype=np.bool_)

    @property
    def errors(self) -> tuple[ErrorCode | None, ...]:
        """The error code of each metric (flattened, C order), None when fine."""
        return tuple(cast(ErrorCode, e) if e else None for e in self.error.ravel().tolist())


@dataclass(frozen=True, eq=False)
class FrequentistResult(_Errors):
    """Effect estimate, interval and p-value per metric (fixed-horizon or always-valid)."""

    estimate: FloatArray
    standard_error: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    p_value: FloatArray
    statistic: FloatArray
    dof: FloatArray
    alpha: float
    difference: Difference
    error: StrArray

    @property
    def significant(self) -> BoolArray:
        return self.ok & (self.p_value < self.alpha)


@dataclass(frozen=True, eq=False)
class GroupSequentialResult(_Errors):
    """One interim look of a planned-horizon test against its alpha-spending boundary."""

    estimate: FloatArray
    standard_error: FloatArray
    statistic: FloatArray
    boundary: float
    information_fraction: float
    ci_lower: FloatArray
    ci_upper: FloatArray
    alpha: float
    spending: Spending
    difference: Difference
    error: StrArray

    @property
    def crossed(self) -> BoolArray:
        """True where |z| passed this look's boundary: stop and declare an effect."""
        return self.ok & (np.abs(self.statistic) >= self.boundary)


@dataclass(frozen=True, eq=False)
class BayesianResult(_Errors):
    """Posterior of the effect per metric: chance to win, expected loss, credible interval."""

    chance_to_win: FloatArray
    expected: FloatArray
    posterior_sd: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    risk_control: FloatArray
    risk_treatment: FloatArray
    alpha: float
    difference: Difference
    error: StrArray


@dataclass(frozen=True, eq=False)
class SrmResult:
    """Chi-square sample-ratio-mismatch check of observed arm sizes against planned weights."""

    chi_square: FloatArray
    p_value: FloatArray
    expected: FloatArray
    threshold: float

    @property
    def mismatch(self) -> BoolArray:
        return self.p_value < self.threshold


@dataclass(frozen=True, eq=False)
class BanditResult:
    """Posterior chance that each arm is best and the traffic weights derived from it."""

    best_probability: FloatArray
    weights: FloatArray
