"""Planned-horizon group-sequential tests: Lan-DeMets alpha spending and its power."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from scipy import stats as sps

from clarion.stats.arrays import FloatArray, as_floats
from clarion.stats.effects import effect_moments
from clarion.stats.results import GroupSequentialResult
from clarion.stats.settings import GroupSequentialSettings, Spending
from clarion.stats.sufficient import Statistic

_DEFAULT = GroupSequentialSettings()
# Grid points per standard deviation of one look's increment: Simpson's rule at this
# density integrates the smooth sub-densities to well below 1e-6.
_POINTS_PER_SD = 24
_TAIL_SDS = 10.0
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))


def spent_alpha(
    fractions: Sequence[float] | FloatArray, alpha: float, spending: Spending
) -> FloatArray:
    """Cumulative two-sided alpha spent by information fraction t (Lan & DeMets 1983).

    Each side spends alpha / 2 through the one-sided function, the convention of
    gsDesign, rpact and ldbounds: O'Brien-Fleming-type 2·(2 − 2Φ(z_{α/4} / √t)),
    Pocock-type α·ln(1 + (e − 1)·t).
    """
    t = np.clip(as_floats(fractions), 0.0, 1.0)
    if spending == "obrien_fleming":
        z = sps.norm.isf(alpha / 4.0)
        with np.errstate(divide="ignore"):
            return as_floats(np.where(t > 0, 4.0 * sps.norm.sf(z / np.sqrt(t)), 0.0))
    return as_floats(alpha * np.log1p((np.e - 1.0) * t))


@dataclass(frozen=True, eq=False)
class Boundaries:
    """Two-sided z boundaries, one per look, and the alpha spent up to each look."""

    fractions: FloatArray
    z: FloatArray
    spent: FloatArray


def _simpson_weights(count: int, step: float) -> FloatArray:
    w = np.ones(count)
    w[1:-1:2] = 4.0
    w[2:-1:2] = 2.0
    return w * step / 3.0


def _grid(lo: float, hi: float, sd: float) -> tuple[FloatArray, FloatArray]:
    count = max(int(np.ceil((hi - lo) / sd * _POINTS_PER_SD)), 50)
    count += 1 - count % 2  # Simpson needs an odd number of points
    x = np.linspace(lo, hi, count)
    return x, _simpson_weights(count, (hi - lo) / (count - 1))


@dataclass
class _Walk:
    """Sub-density of the score S_k = Z_k·√t_k on the continuation region, look by look."""

    drift: float
    x: FloatArray
    density: FloatArray
    t: float

    def exit_probability(self, c: float, dt: float) -> float:
        mu = self.x + self.drift * dt
        sd = np.sqrt(dt)
        tails = special.ndtr((-c - mu) / sd) + special.ndtr((mu - c) / sd)
        return float(np.sum(self.density * tails))

    def advance(self, c: float, t: float) -> None:
        dt = t - self.t
        sd = np.sqrt(dt)
        centre = self.drift * t
        reach = _TAIL_SDS * np.sqrt(t)
        lo, hi = max(-c, centre - reach), min(c, centre + reach)
        x, w = _grid(lo, hi, sd)
        u = (x[:, None] - self.x[None, :] - self.drift * dt) / sd
        kernel = np.exp(-0.5 * u * u) / (sd * _SQRT_2PI)
        self.density = (kernel @ self.density) * w
        self.x = x
        self.t = t


def _start(drift: float, t: float, c: float) -> _Walk:
    sd = np.sqrt(t)
    reach = _TAIL_SDS * sd
    lo, hi = max(-c, drift * t - reach), min(c, drift * t + reach)
    x, w = _grid(lo, hi, sd)
    density = sps.norm.pdf((x - drift * t) / sd) / sd * w
    return _Walk(drift=drift, x=x, density=density, t=t)


def _check_fractions(fractions: Sequence[float] | FloatArray) -> FloatArray:
    t = np.minimum(as_floats(fractions), 1.0)
    if t.ndim != 1 or t.size == 0 or np.any(t <= 0) or np.any(np.diff(t) <= 0):
        raise ValueError("information fractions must be increasing and positive")
    return t


def _excess(c: float, walk: _Walk, dt: float, target: float) -> float:
    return walk.exit_probability(c, dt) - target


def boundaries(
    fractions: Sequence[float] | FloatArray,
    alpha: float = 0.05,
    spending: Spending = "obrien_fleming",
) -> Boundaries:
    """Two-sided Lan-DeMets boundaries for looks at the given information fractions
    (n so far / planned n), by numerical integration of the Brownian score (Armitage,
    McPherson & Rowe 1969). Fractions above 1 spend the rest of alpha.
    """
    t = _check_fractions(fractions)
    spent = spent_alpha(t, alpha, spending)
    z = np.empty_like(t)
    z[0] = sps.norm.isf(spent[0] / 2.0) if spent[0] > 0 else np.inf
    walk = _start(0.0, float(t[0]), float(z[0] * np.sqrt(t[0])))
    for k in range(1, t.size):
        target = float(spent[k] - spent[k - 1])
        dt = float(t[k] - t[k - 1])
        if target <= 0:
            c = np.inf
        else:
            top = float(np.max(np.abs(walk.x))) + 40.0 * np.sqrt(dt)
            c = optimize.brentq(_excess, 0.0, top, args=(walk, dt, target), xtol=1e-12)
        z[k] = c / np.sqrt(t[k])
        if k + 1 < t.size:
            walk.advance(c, float(t[k]))
    return Boundaries(fractions=t, z=z, spent=spent)


def crossing_probability(
    fractions: Sequence[float] | FloatArray, z: Sequence[float] | FloatArray, drift: float
) -> float:
    """Chance that |Z_k| crosses z_k at some look when E[Z at t = 1] equals `drift`."""
    t = _check_fractions(fractions)
    c = as_floats(z) * np.sqrt(t)
    walk = _start(drift, float(t[0]), float(c[0]))
    mean1, sd1 = drift * t[0], np.sqrt(t[0])
    total = float(sps.norm.cdf((-c[0] - mean1) / sd1) + sps.norm.sf((c[0] - mean1) / sd1))
    for k in range(1, t.size):
        total += walk.exit_probability(float(c[k]), float(t[k] - t[k - 1]))
        if k + 1 < t.size:
            walk.advance(float(c[k]), float(t[k]))
    return total


def inflation_factor(
    fractions: Sequence[float] | FloatArray,
    alpha: float = 0.05,
    power: float = 0.8,
    spending: Spending = "obrien_fleming",
) -> float:
    """Planned-n multiplier that keeps `power` when looking at `fractions` instead of once."""
    bounds = boundaries(fractions, alpha, spending)
    fixed = sps.norm.isf(alpha / 2.0) + sps.norm.isf(1.0 - power)

    def gap(drift: float) -> float:
        return crossing_probability(bounds.fractions, bounds.z, drift) - power

    drift = optimize.brentq(gap, fixed * 0.5, fixed * 2.0, xtol=1e-10)
    return float((drift / fixed) ** 2)


def group_sequential_test(
    control: Statistic,
    treatment: Statistic,
    looks: Sequence[float],
    settings: GroupSequentialSettings = _DEFAULT,
) -> GroupSequentialResult:
    """Read the latest look (the last of `looks`, each n so far / planned n) against its
    alpha-spending boundary; the interval is the repeated confidence interval.
    """
    bounds = boundaries(looks, settings.alpha, settings.spending)
    b = float(bounds.z[-1])
    moments = effect_moments(control, treatment, settings.difference)
    se = moments.standard_error
    with np.errstate(invalid="ignore"):
        z = moments.estimate / se
    return GroupSequentialResult(
        estimate=moments.estimate,
        standard_error=se,
        statistic=z,
        boundary=b,
        information_fraction=float(bounds.fractions[-1]),
        ci_lower=moments.estimate - b * se,
        ci_upper=moments.estimate + b * se,
        alpha=settings.alpha,
        spending=settings.spending,
        difference=settings.difference,
        error=moments.error,
    )
