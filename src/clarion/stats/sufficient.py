"""Frozen, addable sufficient statistics: what the warehouse computes and inference reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from clarion.stats.arrays import FloatArray, as_floats, safe_divide


class Statistic(Protocol):
    """What every test reads from one arm: unit count, mean, per-unit variance."""

    @property
    def n(self) -> FloatArray: ...

    @property
    def mean(self) -> FloatArray: ...

    @property
    def variance(self) -> FloatArray: ...

    @property
    def unadjusted_mean(self) -> FloatArray: ...


def _sample_variance(n: FloatArray, total: FloatArray, sum_squares: FloatArray) -> FloatArray:
    # (Σx² − (Σx)²/n) / (n − 1): the unbiased variance from the three sums; 0 below two units.
    centred = sum_squares - safe_divide(total**2, n)
    return np.where(n > 1, safe_divide(centred, n - 1), 0.0)


def _sample_covariance(
    n: FloatArray, sum_x: FloatArray, sum_y: FloatArray, sum_products: FloatArray
) -> FloatArray:
    centred = sum_products - safe_divide(sum_x * sum_y, n)
    return np.where(n > 1, safe_divide(centred, n - 1), 0.0)


@dataclass(frozen=True, init=False, eq=False)
class ProportionStats:
    """Units and converted units per metric: the sums of a 0/1 outcome."""

    n: FloatArray
    sum: FloatArray

    def __init__(self, n: npt.ArrayLike, sum: npt.ArrayLike) -> None:
        object.__setattr__(self, "n", as_floats(n))
        object.__setattr__(self, "sum", as_floats(sum))

    @classmethod
    def from_values(cls, values: npt.ArrayLike, axis: int = -1) -> ProportionStats:
        """Sufficient statistics of raw 0/1 outcomes along `axis`."""
        vals = as_floats(values)
        return cls(n=vals.shape[axis] * np.ones_like(vals.sum(axis=axis)), sum=vals.sum(axis=axis))

    def __add__(self, other: object) -> ProportionStats:
        if not isinstance(other, ProportionStats):
            return NotImplemented
        return ProportionStats(n=self.n + other.n, sum=self.sum + other.sum)

    @property
    def sum_squares(self) -> FloatArray:
        return self.sum

    @property
    def mean(self) -> FloatArray:
        return safe_divide(self.sum, self.n)

    @property
    def unadjusted_mean(self) -> FloatArray:
        return self.mean

    @property
    def variance(self) -> FloatArray:
        # Bernoulli variance p(1 − p), as gbstats uses for proportion metrics.
        p = self.mean
        return p * (1.0 - p)


@dataclass(frozen=True, init=False, eq=False)
class MeanStats:
    """Units, sum and sum of squares per metric: a per-unit numeric outcome."""

    n: FloatArray
    sum: FloatArray
    sum_squares: FloatArray

    def __init__(
        self,
        n: npt.ArrayLike,
        sum: npt.ArrayLike,
        sum_squares: npt.ArrayLike,
    ) -> None:
        object.__setattr__(self, "n", as_floats(n))
        object.__setattr__(self, "sum", as_floats(sum))
        object.__setattr__(self, "sum_squares", as_floats(sum_squares))

    @classmethod
    def from_values(cls, values: npt.ArrayLike, axis: int = -1) -> MeanStats:
        """Sufficient statistics of raw per-unit values along `axis`."""
        vals = as_floats(values)
        total = vals.sum(axis=axis)
        return cls(
            n=vals.shape[axis] * np.ones_like(total),
            sum=total,
            sum_squares=(vals**2).sum(axis=axis),
        )

    def __add__(self, other: object) -> MeanStats:
        if not isinstance(other, MeanStats):
            return NotImplemented
        return MeanStats(
            n=self.n + other.n,
            sum=self.sum + other.sum,
            sum_squares=self.sum_squares + other.sum_squares,
        )

    @property
    def mean(self) -> FloatArray:
        return safe_divide(self.sum, self.n)

    @property
    def unadjusted_mean(self) -> FloatArray:
        return self.mean

    @property
    def variance(self) -> FloatArray:
        return _sample_variance(self.n, self.sum, self.sum_squares)


Component = ProportionStats | MeanStats


def add_components(a: Component, b: Component) -> Component:
    if isinstance(a, ProportionStats) and isinstance(b, ProportionStats):
        return a + b
    if isinstance(a, MeanStats) and isinstance(b, MeanStats):
        return a + b
    raise TypeError("cannot add a proportion to a mean statistic")


def covariance(n: FloatArray, a: Component, b: Component, sum_products: FloatArray) -> FloatArray:
    """Sample covariance per unit of two outcomes measured on the same units."""
    return _sample_covariance(n, a.sum, b.sum, sum_products)


@dataclass(frozen=True, init=False, eq=False)
class RatioStats:
    """A ratio metric Σm / Σd over units (e.g. revenue per session) with its cross sum."""

    numerator: Component
    denominator: Component
    sum_products: FloatArray

    def __init__(
        self, numerator: Component, denominator: Component, sum_products: npt.ArrayLike
    ) -> None:
        object.__setattr__(self, "numerator", numerator)
        object.__setattr__(self, "denominator", denominator)
        object.__setattr__(self, "sum_products", as_floats(sum_products))

    @classmethod
    def from_values(
        cls, numerator: npt.ArrayLike, denominator: npt.ArrayLike, axis: int = -1
    ) -> RatioStats:
        """Sufficient statistics of paired per-unit numerator and denominator values."""
        num = as_floats(numerator)
        den = as_floats(denominator)
        return cls(
            numerator=MeanStats.from_values(num, axis=axis),
            denominator=MeanStats.from_values(den, axis=axis),
            sum_products=(num * den).sum(axis=axis),
        )

    def __add__(self, other: object) -> RatioStats:
        if not isinstance(other, RatioStats):
            return NotImplemented
        return RatioStats(
            numerator=add_components(self.numerator, other.numerator),
            denominator=add_components(self.denominator, other.denominator),
            sum_products=self.sum_products + other.sum_products,
        )

    @property
    def n(self) -> FloatArray:
        return self.numerator.n

    @property
    def mean(self) -> FloatArray:
        return safe_divide(self.numerator.sum, self.denominator.sum)

    @property
    def unadjusted_mean(self) -> FloatArray:
        return self.mean

    @property
    def covariance(self) -> FloatArray:
        return covariance(self.n, self.numerator, self.denominator, self.sum_products)

    @property
    def variance(self) -> FloatArray:
        # Delta method for M/D per unit: var_m/μd² − 2·cov·μm/μd³ + μm²·var_d/μd⁴.
        mu_m = self.numerator.mean
        mu_d = self.denominator.mean
        var = (
            safe_divide(self.numerator.variance, mu_d**2)
            - 2.0 * safe_divide(self.covariance * mu_m, mu_d**3)
            + safe_divide(mu_m**2 * self.denominator.variance, mu_d**4)
        )
        return np.where((mu_d != 0) & (self.n > 1), var, 0.0)
