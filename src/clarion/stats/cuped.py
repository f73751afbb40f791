"""CUPED variance reduction: regression adjustment of an outcome on its pre-period value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np
import numpy.typing as npt

from clarion.stats.arrays import FloatArray, as_floats, safe_divide
from clarion.stats.sufficient import Component, MeanStats, add_components, covariance


@dataclass(frozen=True, init=False, eq=False)
class CovariateStats:
    """One arm's outcome (post), its pre-period covariate (pre) and their cross sum."""

    post: Component
    pre: Component
    sum_products: FloatArray

    def __init__(self, post: Component, pre: Component, sum_products: npt.ArrayLike) -> None:
        object.__setattr__(self, "post", post)
        object.__setattr__(self, "pre", pre)
        object.__setattr__(self, "sum_products", as_floats(sum_products))

    @classmethod
    def from_values(cls, post: npt.ArrayLike, pre: npt.ArrayLike, axis: int = -1) -> CovariateStats:
        """Sufficient statistics of paired per-unit outcome and pre-period values."""
        y, x = as_floats(post), as_floats(pre)
        return cls(
            post=MeanStats.from_values(y, axis=axis),
            pre=MeanStats.from_values(x, axis=axis),
            sum_products=(x * y).sum(axis=axis),
        )

    def __add__(self, other: object) -> CovariateStats:
        if not isinstance(other, CovariateStats):
            return NotImplemented
        return CovariateStats(
            post=add_components(self.post, other.post),
            pre=add_components(self.pre, other.pre),
            sum_products=self.sum_products + other.sum_products,
        )

    @property
    def n(self) -> FloatArray:
        return self.post.n

    @property
    def covariance(self) -> FloatArray:
        return covariance(self.n, self.post, self.pre, self.sum_products)


@dataclass(frozen=True, eq=False)
class AdjustedStats:
    """An arm after CUPED: adjusted mean and variance, the raw mean kept for relative lifts.

    The mean is the outcome mean moved to the pooled pre-period mean, so differences
    between arms equal gbstats' regression-adjusted differences.
    """

    n: FloatArray
    mean: FloatArray
    variance: FloatArray
    unadjusted_mean: FloatArray
    theta: FloatArray


def cuped_theta(arms: Sequence[CovariateStats]) -> FloatArray:
    """θ = cov(post, pre) / var(pre) over all arms pooled (0 when either does not vary)."""
    joint = reduce(lambda a, b: a + b, arms)
    var_pre, var_post = joint.pre.variance, joint.post.variance
    theta = safe_divide(joint.covariance, var_pre)
    return as_floats(np.where((var_pre > 0) & (var_post > 0), theta, 0.0))


def cuped_adjust(
    arms: Sequence[CovariateStats], theta: npt.ArrayLike | None = None
) -> tuple[AdjustedStats, ...]:
    """Adjust each arm's outcome by θ·(pre − pooled pre mean); θ is pooled unless given.

    Pass the result to any test in place of the raw statistics.
    """
    if not arms:
        raise ValueError("CUPED needs at least one arm")
    th = cuped_theta(arms) if theta is None else as_floats(theta)
    joint_pre = reduce(add_components, (arm.pre for arm in arms))
    centre = joint_pre.mean
    adjusted = []
    for arm in arms:
        variance = arm.post.variance + th**2 * arm.pre.variance - 2.0 * th * arm.covariance
        adjusted.append(
            AdjustedStats(
                n=arm.n,
                mean=as_floats(arm.post.mean - th * (arm.pre.mean - centre)),
                variance=as_floats(np.where(arm.n > 1, variance, 0.0)),
                unadjusted_mean=arm.post.mean,
                theta=th,
            )
        )
    return tuple(adjusted)
