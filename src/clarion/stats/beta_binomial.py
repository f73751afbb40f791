"""Beta-Binomial test of conversion rates, integrated numerically (no sampling)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, dataclass, replace
from functools import lru_cache

import numpy as np
from scipy import special
from scipy import stats as sps

from clarion.stats.arrays import BoolArray, FloatArray, IntArray, as_floats
from clarion.stats.results import BayesianResult, ErrorCode, error_array
from clarion.stats.settings import BetaBinomialSettings
from clarion.stats.sufficient import ProportionStats

_DEFAULT = BetaBinomialSettings()
_NODES = 128  # Gauss-Legendre nodes over ±7 sd of the narrower posterior
_TAIL = 1e-12  # posterior mass left outside the integration range, per side
_BISECTIONS = 5  # then regula falsi converges superlinearly
_FALSE_POSITION = 14
_WIDENINGS = 8


@lru_cache(maxsize=1)
def _legendre() -> tuple[FloatArray, FloatArray]:
    u, w = np.polynomial.legendre.leggauss(_NODES)
    return as_floats((u + 1.0) / 2.0), as_floats(w / 2.0)


def _cdf(a: FloatArray, b: FloatArray, x: FloatArray) -> FloatArray:
    return as_floats(special.betainc(a, b, np.clip(x, 0.0, 1.0)))


def _sf(a: FloatArray, b: FloatArray, x: FloatArray) -> FloatArray:
    # I_{1−x}(b, a) is the Beta survival function, exact in the upper tail and much
    # faster in scipy than betaincc.
    return as_floats(special.betainc(b, a, np.clip(1.0 - x, 0.0, 1.0)))


@dataclass(frozen=True)
class _Arms:
    """Beta posterior parameters of both arms, one row per metric, plus one extra value."""

    a_alpha: FloatArray
    a_beta: FloatArray
    b_alpha: FloatArray
    b_beta: FloatArray
    value: FloatArray

    def take(self, rows: IntArray) -> _Arms:
        return _Arms(*(v[rows][:, None] for v in astuple(self)))


_Integrand = Callable[[FloatArray, _Arms], FloatArray]


class _Quadrature:
    """Gauss-Legendre nodes under the narrower posterior of each metric.

    Integrating against the narrower density keeps the other arm's CDF smooth on the
    nodes, so 128 nodes give about 1e-12 even when one arm has 100× the units.
    """

    def __init__(self, arms: _Arms) -> None:
        var_a = sps.beta.var(arms.a_alpha, arms.a_beta)
        var_b = sps.beta.var(arms.b_alpha, arms.b_beta)
        over_a = np.asarray(var_a <= var_b)
        self.rows_a = np.flatnonzero(over_a)
        self.rows_b = np.flatnonzero(~over_a)
        alpha = np.where(over_a, arms.a_alpha, arms.b_alpha)[:, None]
        beta = np.where(over_a, arms.a_beta, arms.b_beta)[:, None]
        lo = sps.beta.ppf(_TAIL, alpha, beta)
        hi = sps.beta.isf(_TAIL, alpha, beta)
        u, w = _legendre()
        self.x: FloatArray = as_floats(lo + (hi - lo) * u)
        self.w: FloatArray = as_floats((hi - lo) * w * sps.beta.pdf(self.x, alpha, beta))

    def expect(self, arms: _Arms, over_a: _Integrand, over_b: _Integrand) -> FloatArray:
        """E[g] for each metric, written as an integral over A's density or over B's."""
        values = np.empty_like(self.x)
        values[self.rows_a] = over_a(self.x[self.rows_a], arms.take(self.rows_a))
        values[self.rows_b] = over_b(self.x[self.rows_b], arms.take(self.rows_b))
        return as_floats(np.sum(self.w * values, axis=-1))


def _b_above_a(quad: _Quadrature, arms: _Arms) -> FloatArray:
    return quad.expect(
        arms,
        lambda x, p: _sf(p.b_alpha, p.b_beta, x),
        lambda x, p: _cdf(p.a_alpha, p.a_beta, x),
    )


def _gain_of_b(quad: _Quadrature, arms: _Arms, relative: bool) -> FloatArray:
    """E[(B − A)⁺], or E[(B − A)⁺ / A] when relative, with inner integrals in closed form."""

    def over_a(x: FloatArray, p: _Arms) -> FloatArray:
        mean_b = p.b_alpha / (p.b_alpha + p.b_beta)
        above = mean_b * _sf(p.b_alpha + 1, p.b_beta, x) - x * _sf(p.b_alpha, p.b_beta, x)
        return above / x if relative else above

    def over_b(x: FloatArray, p: _Arms) -> FloatArray:
        below = _cdf(p.a_alpha, p.a_beta, x)
        if relative:
            # E[1/A; A < x] = E[1/A]·F_{Beta(α−1, β)}(x)
            inverse_mean = (p.a_alpha + p.a_beta - 1) / (p.a_alpha - 1)
            return x * inverse_mean * _cdf(p.a_alpha - 1, p.a_beta, x) - below
        mean_a = p.a_alpha / (p.a_alpha + p.a_beta)
        return x * below - mean_a * _cdf(p.a_alpha + 1, p.a_beta, x)

    return quad.expect(arms, over_a, over_b)


def _effect_cdf(quad: _Quadrature, arms: _Arms, relative: bool) -> FloatArray:
    """P(B − A ≤ v), or P(B / A − 1 ≤ v) when relative, at v = `arms.value`."""
    if relative:
        return quad.expect(
            arms,
            lambda x, p: _cdf(p.b_alpha, p.b_beta, x * (1 + p.value)),
            lambda x, p: _sf(p.a_alpha, p.a_beta, x / (1 + p.value)),
        )
    return quad.expect(
        arms,
        lambda x, p: _cdf(p.b_alpha, p.b_beta, x + p.value),
        lambda x, p: _sf(p.a_alpha, p.a_beta, x - p.value),
    )


def _quantile(
    quad: _Quadrature,
    arms: _Arms,
    q: float,
    *,
    guess: FloatArray,
    spread: FloatArray,
    relative: bool,
) -> FloatArray:
    """Solve effect_cdf(v) = q: a few bisections, then Illinois regula falsi."""
    floor = -1.0 + 1e-12 if relative else -1.0
    lo = np.maximum(guess - 12 * spread, floor)
    hi = guess + 12 * spread

    def gap(v: FloatArray) -> FloatArray:
        return _effect_cdf(quad, replace(arms, value=v), relative) - q

    f_lo, f_hi = gap(lo), gap(hi)
    for _ in range(_WIDENINGS):  # heavy-tailed lifts (few conversions) may need more room
        short = f_hi < 0
        if not np.any(short):
            break
        hi = np.where(short, hi + 4 * (hi - lo), hi)
        f_hi = np.where(short, gap(hi), f_hi)
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2.0
        f_mid = gap(mid)
        below = f_mid < 0
        lo, f_lo = np.where(below, mid, lo), np.where(below, f_mid, f_lo)
        hi, f_hi = np.where(below, hi, mid), np.where(below, f_hi, f_mid)
    side = np.zeros_like(lo)
    for _ in range(_FALSE_POSITION):
        with np.errstate(divide="ignore", invalid="ignore"):
            mid = np.where(f_hi != f_lo, (lo * f_hi - hi * f_lo) / (f_hi - f_lo), (lo + hi) / 2)
        mid = np.clip(np.nan_to_num(mid, nan=0.0), lo, hi)
        f_mid = gap(mid)
        below = f_mid < 0
        # Illinois: halve the stale end's value when the same end is kept twice.
        f_hi = np.where(below & (side < 0), f_hi / 2, f_hi)
        f_lo = np.where(~below & (side > 0), f_lo / 2, f_lo)
        side = np.where(below, -1.0, 1.0)
        lo, f_lo = np.where(below, mid, lo), np.where(below, f_mid, f_lo)
        hi, f_hi = np.where(below, hi, mid), np.where(below, f_hi, f_mid)
    return as_floats(np.where(np.abs(f_lo) < np.abs(f_hi), lo, hi))


def beta_binomial_test(
    control: ProportionStats,
    treatment: ProportionStats,
    settings: BetaBinomialSettings = _DEFAULT,
) -> BayesianResult:
    """Exact-posterior Bayesian test of two conversion rates: chance that treatment beats
    control, expected loss of each choice, and an equal-tailed credible interval of the
    absolute or relative lift, by Gauss-Legendre quadrature against Beta posteriors.
    """
    if np.any(control.sum < 0) or np.any(control.sum > control.n):
        raise ValueError("control conversions must lie between 0 and n")
    if np.any(treatment.sum < 0) or np.any(treatment.sum > treatment.n):
        raise ValueError("treatment conversions must lie between 0 and n")
    relative = settings.difference == "relative"
    a = (control.sum + settings.prior_alpha, control.n - control.sum + settings.prior_beta)
    b = (treatment.sum + settings.prior_alpha, treatment.n - treatment.sum + settings.prior_beta)
    a_alpha, a_beta = np.broadcast_arrays(*a)
    b_alpha, b_beta = np.broadcast_arrays(*b)
    shape = np.broadcast_shapes(a_alpha.shape, b_alpha.shape)
    checks: list[tuple[ErrorCode, BoolArray]] = [
        ("insufficient_data", (control.n < 1) | (treatment.n < 1)),
    ]
    if relative:
        checks.append(("baseline_zero", a_alpha <= 1))
    error = error_array(shape, checks)
    ok = np.asarray(error == "", dtype=np.bool_)
    # Rows with an error get a harmless stand-in posterior so the arrays stay aligned.
    a_alpha = np.where(ok, a_alpha, 3.0)
    arms = _Arms(*(np.ravel(v) for v in np.broadcast_arrays(a_alpha, a_beta, b_alpha, b_beta, 0.0)))
    quad = _Quadrature(arms)

    mean_a, var_a = sps.beta.stats(a_alpha, a_beta, moments="mv")
    mean_b, var_b = sps.beta.stats(b_alpha, b_beta, moments="mv")
    if relative:
        inv_a = (a_alpha + a_beta - 1) / (a_alpha - 1)
        expected = mean_b * inv_a - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            inv2_a = np.where(
                a_alpha > 2,
                inv_a * (a_alpha + a_beta - 2) / (a_alpha - 2),
                np.nan,
            )
        second_b = mean_b * (b_alpha + 1) / (b_alpha + b_beta + 1)
        sd = np.sqrt(second_b * inv2_a - (mean_b * inv_a) ** 2)
    else:
        expected = mean_b - mean_a
        sd = np.sqrt(var_a + var_b)

    beats = _b_above_a(quad, arms).reshape(shape)
    gain = _gain_of_b(quad, arms, relative).reshape(shape)
    risk_control, risk_treatment = gain, gain - expected
    if settings.inverse:
        beats = 1.0 - beats
        risk_control, risk_treatment = risk_treatment, risk_control
    # Bisection is bracketed by a normal guess: ±12 sd of the lift around its mean.
    spread = np.where(np.isfinite(sd), sd, np.sqrt(var_a + var_b) / mean_a)
    half = settings.alpha / 2.0
    guess, spread = np.ravel(expected), np.ravel(spread)
    lower = _quantile(quad, arms, half, guess=guess, spread=spread, relative=relative).reshape(
        shape
    )
    upper = _quantile(
        quad, arms, 1.0 - half, guess=guess, spread=spread, relative=relative
    ).reshape(shape)

    def masked(values: FloatArray) -> FloatArray:
        return as_floats(np.where(ok, values, np.nan))

    return BayesianResult(
        chance_to_win=masked(beats),
        expected=masked(as_floats(expected)),
        posterior_sd=masked(as_floats(sd)),
        ci_lower=masked(lower),
        ci_upper=masked(upper),
        risk_control=masked(risk_control),
        risk_treatment=masked(risk_treatment),
        alpha=settings.alpha,
        difference=settings.difference,
        error=error,
    )
