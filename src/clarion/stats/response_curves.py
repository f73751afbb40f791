"""Each unit's response to spend (saturation, carry-over), learned by an exact grid posterior.

Model, per unit and day ``t``: carried spend ``A_t = (1 − λ)·x_t + λ·A_{t−1}`` (geometric
carry-over, normalised so steady spend ``x`` carries to ``x``); results
``y_t ~ Poisson(a · A_t^k / (A_t^k + s^k))`` (Hill saturation, concave for ``k ≤ 1``). The
half-saturation spend ``s``, shape ``k`` and carry-over ``λ`` range over a grid; given them
the model is linear in ``a`` and a Gamma prior on ``a`` is conjugate, so the posterior is an
exact mixture of Gammas — no sampler, milliseconds per unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from clarion.stats.arrays import FloatArray, as_floats
from clarion.stats.budget_solver import Curves

SATURATION_MULTIPLES = tuple(float(m) for m in np.geomspace(0.25, 16.0, 13))
CARRYOVERS = (0.0, 0.25, 0.5, 0.7)
SHAPES = (0.6, 0.8, 1.0)
SATURATION_SPREAD = 1.0  # log-sd of the half-saturation spend around the reference (0035)
CHANGE_WINDOW = 14  # days back in which a change of level is looked for
_LOG_FLOOR = -700.0  # log of the smallest share of ``a`` a day with carried spend can reach


@dataclass(frozen=True)
class ResponsePrior:
    """What is believed before data: results at a reference spend, and how firmly.

    ``expected_at_reference`` results per day at ``reference_spend`` per day (e.g. the planned
    daily spend over the target CPA). ``strength`` is the Gamma shape: 1 is vague, so the first
    days of data dominate; the saturation grid is in multiples of ``reference_spend``.
    """

    reference_spend: float
    expected_at_reference: float
    strength: float = 1.0
    saturation_multiples: tuple[float, ...] = SATURATION_MULTIPLES
    saturation_spread: float | None = SATURATION_SPREAD
    shapes: tuple[float, ...] = SHAPES
    carryovers: tuple[float, ...] = CARRYOVERS

    def __post_init__(self) -> None:
        if self.reference_spend <= 0 or self.expected_at_reference <= 0 or self.strength <= 0:
            raise ValueError("reference spend, expected results and strength must be positive")


@dataclass(frozen=True)
class ResponsePosterior:
    """The posterior of one unit: grid weights and the Gamma(shape, rate) of ``a`` per point."""

    scales: FloatArray  # (points,) half-saturation spend s of each grid point
    shapes: FloatArray  # (points,) Hill shape k
    carryovers: FloatArray  # (points,) carry-over λ
    weights: FloatArray  # (points,) posterior probability, sums to 1
    shape: FloatArray  # (points,) Gamma shape of a
    rate: FloatArray  # (points,) Gamma rate of a
    days: int
    results: float

    def mean_terms(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The posterior-mean steady-state curve as (weight, half, shape) Hill terms."""
        return as_floats(self.weights * self.shape / self.rate), self.scales, self.shapes

    def draw(
        self, rng: np.random.Generator, size: int
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``size`` curves drawn from the posterior: (a, s, k) arrays of length ``size``."""
        points = rng.choice(self.weights.size, size=size, p=self.weights)
        a = rng.gamma(self.shape[points], 1.0 / self.rate[points])
        return as_floats(a), as_floats(self.scales[points]), as_floats(self.shapes[points])


def _hill(spend: FloatArray, half: FloatArray, shape: FloatArray) -> FloatArray:
    ratio = (half / np.maximum(spend, 1e-12)) ** shape
    return as_floats(np.where(spend > 0, 1.0 / (1.0 + ratio), 0.0))


def carried(spend: FloatArray, carryovers: FloatArray) -> FloatArray:
    """Carried spend per day for each carry-over: shape (len(carryovers), days)."""
    x = as_floats(spend)
    out = np.empty((carryovers.size, x.size))
    level = np.zeros(carryovers.size)
    for t in range(x.size):
        level = (1.0 - carryovers) * x[t] + carryovers * level
        out[:, t] = level
    return as_floats(out)


def fit_response(
    spend: FloatArray,
    results: FloatArray,
    prior: ResponsePrior,
    *,
    half_life_days: float | None = None,
    change_per_day: float = 0.0,
) -> ResponsePosterior:
    """The posterior after observing daily ``spend`` and ``results`` (same length, oldest first).

    With no days the posterior is the prior, so an allocation can be made on day one. With a
    ``half_life_days``, a day's evidence counts half as much that many days later (a tempered
    likelihood), so a unit whose response degrades is re-learned instead of averaged away. With
    a ``change_per_day`` (the prior probability that the level ``a`` changes on a given day),
    every day is weighed as the start of a new level with the curve's shape kept: a unit that
    degrades is noticed within days, not averaged over a half-life.
    """
    x, y = as_floats(spend), as_floats(results)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("spend and results must be one value per day, the same number of days")
    (posterior,) = fit_responses(
        x[None, :],
        y[None, :],
        [prior],
        half_life_days=half_life_days,
        change_per_day=change_per_day,
    )
    return posterior


def fit_responses(
    spend: FloatArray,
    results: FloatArray,
    priors: Sequence[ResponsePrior],
    *,
    half_life_days: float | None = None,
    change_per_day: float = 0.0,
) -> list[ResponsePosterior]:
    """``fit_response`` for many units at once: ``spend`` and ``results`` are (units, days).

    The priors may differ in reference spend and expected results, not in their grid.
    """
    x, y = as_floats(spend), as_floats(results)
    if x.shape != y.shape or x.ndim != 2 or x.shape[0] != len(priors):
        raise ValueError("spend and results must be one value per day, the same number of days")
    if np.any(x < 0) or np.any(y < 0) or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("spend and results must be finite and not negative")
    if not 0 <= change_per_day < 1 / CHANGE_WINDOW:
        raise ValueError(f"the chance of a change per day must be in [0, 1/{CHANGE_WINDOW})")
    first = priors[0]
    grid = (
        first.saturation_multiples,
        first.saturation_spread,
        first.shapes,
        first.carryovers,
        first.strength,
    )
    if any(
        (p.saturation_multiples, p.saturation_spread, p.shapes, p.carryovers, p.strength) != grid
        for p in priors
    ):
        raise ValueError("units fitted together must share the prior grid and strength")
    units, days = x.shape
    lambdas = as_floats(first.carryovers)
    shapes = as_floats(first.shapes)
    reference = as_floats([p.reference_spend for p in priors])
    expected = as_floats([p.expected_at_reference for p in priors])
    multiples = as_floats(first.saturation_multiples)
    # Grid points ordered (half, shape, carry-over), carry-over fastest.
    points = multiples.size * shapes.size * lambdas.size
    scale = np.repeat(multiples, shapes.size * lambdas.size)[None, :] * reference[:, None]
    hill = np.tile(np.repeat(shapes, lambdas.size), multiples.size)
    lam = np.tile(lambdas, multiples.size * shapes.size)
    spread = first.saturation_spread
    log_prior = (
        np.zeros(points)
        if spread is None
        else -0.5 * (np.repeat(np.log(multiples), shapes.size * lambdas.size) / spread) ** 2
    )
    # A Gamma prior per point whose mean gives the expected results at the reference spend.
    at_reference = _hill(reference[:, None], scale, hill[None, :])  # (units, points)
    shape0 = np.full((units, points), first.strength)
    rate0 = first.strength * at_reference / expected[:, None]
    if days == 0:
        weights = np.broadcast_to(np.exp(log_prior - log_prior.max()), (units, points))
        weights = weights / weights.sum(axis=1, keepdims=True)
        return [
            ResponsePosterior(scale[u], hill, lam, weights[u], shape0[u], rate0[u], 0, 0.0)
            for u in range(units)
        ]
    log_h_all = _log_shares(x, scale[:, :: shapes.size * lambdas.size], shapes, lambdas)
    h = np.exp(log_h_all)
    age = np.arange(days - 1, -1, -1, dtype=np.float64)
    discount = np.ones(days) if half_life_days is None else 0.5 ** (age / half_life_days)
    y_seen = y * discount  # (units, days)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_h = np.where(y_seen[:, None, :] > 0, y_seen[:, None, :] * log_h_all, 0.0)
    sums = _Sums(
        before_y=_prefix(y_seen[:, None, :]),
        before_h=_prefix(h * discount),
        before_log=_prefix(log_h),
        strength=first.strength,
        rate0=as_floats(rate0[..., None]),
    )
    total_y = sums.before_y[..., -1]  # (units, 1)
    whole = sums.segment(total_y[..., None], sums.before_h[..., -1:], sums.before_log[..., -1:])
    shape_post, rate_post = shape0 + total_y, rate0 + sums.before_h[..., -1]
    log_like = whole[..., 0]
    if change_per_day > 0 and days >= 2:
        log_like, shape_post, rate_post = _with_changes(
            sums, log_like, shape_post, rate_post, change_per_day
        )
    log_like = np.where(np.isnan(log_like), -np.inf, log_like + log_prior)
    weights = np.exp(log_like - log_like.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return [
        ResponsePosterior(
            scales=as_floats(scale[u]),
            shapes=as_floats(hill),
            carryovers=as_floats(lam),
            weights=as_floats(weights[u]),
            shape=as_floats(shape_post[u]),
            rate=as_floats(rate_post[u]),
            days=days,
            results=float(total_y[u, 0]),
        )
        for u in range(units)
    ]


def _log_shares(
    spend: FloatArray, halves: FloatArray, shapes: FloatArray, lambdas: FloatArray
) -> FloatArray:
    """log h of every day at every grid point: (units, points, days), carry-over fastest."""
    units, days = spend.shape
    level = np.zeros((units, lambdas.size))
    carry = np.empty((units, lambdas.size, days))
    for t in range(days):
        level = (1.0 - lambdas) * spend[:, t : t + 1] + lambdas * level
        carry[:, :, t] = level
    # log h = −log1p((s / A)^k), built by broadcasting over (units, half, shape, lambda, days).
    log_carry = np.log(np.maximum(carry, 1e-12))[:, None, None, :, :]
    log_half = np.log(halves)[:, :, None, None, None]
    ratio = np.exp(shapes[None, None, :, None, None] * (log_half - log_carry))
    ratio = np.where(carry[:, None, None, :, :] > 0, ratio, np.inf)
    # Floored so a day with results at no carried spend is very unlikely, not impossible (the
    # sums over days then stay finite).
    return as_floats(np.maximum(-np.log1p(ratio), _LOG_FLOOR).reshape(units, -1, days))


@dataclass(frozen=True)
class _Sums:
    """Discounted sums over the days before each day c (index c sums the days before it)."""

    before_y: FloatArray  # (units, 1, days + 1) results
    before_h: FloatArray  # (units, points, days + 1) exposure h per point
    before_log: FloatArray  # (units, points, days + 1) results × log h per point
    strength: float  # the Gamma prior's shape, the same at every point
    rate0: FloatArray  # (units, points, 1) the Gamma prior's rate

    def segment(self, y_sum: FloatArray, h_sum: FloatArray, log_sum: FloatArray) -> FloatArray:
        """Log marginal likelihood of a stretch of days with its own ``a`` (Gamma integrated)."""
        a0, b0 = self.strength, self.rate0
        # The Gamma shape is the same at every point, so its gammaln terms are per unit only.
        return as_floats(
            log_sum
            + a0 * np.log(b0)
            - gammaln(a0)
            - (a0 + y_sum) * np.log(b0 + h_sum)
            + gammaln(a0 + y_sum)
        )


def _with_changes(
    sums: _Sums,
    whole: FloatArray,
    shape_post: FloatArray,
    rate_post: FloatArray,
    change_per_day: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The evidence and the level's Gamma when ``a`` may have changed in the recent days.

    A change before day c (one of the last CHANGE_WINDOW days) gives ``a`` before and after
    apart while the curve's saturation, shape and carry-over stay shared (decision 0035); an
    older change has mostly been discounted away and counts as no change.
    """
    days = sums.before_h.shape[-1] - 1
    first_cut = max(1, days - CHANGE_WINDOW)
    cuts = slice(first_cut, days)
    total_y, total_h, total_log = (
        sums.before_y[..., -1:],
        sums.before_h[..., -1:],
        sums.before_log[..., -1:],
    )
    after_y, after_h = total_y - sums.before_y[..., cuts], total_h - sums.before_h[..., cuts]
    split = sums.segment(
        sums.before_y[..., cuts], sums.before_h[..., cuts], sums.before_log[..., cuts]
    ) + sums.segment(after_y, after_h, total_log - sums.before_log[..., cuts])
    # Every term is finite (log h is floored), so no NaN can reach the sums below.
    stay = whole + np.log(1.0 - change_per_day * (days - first_cut))
    split += np.log(change_per_day)
    top = np.maximum(stay, split.max(axis=-1))
    w_stay, w_split = np.exp(stay - top), np.exp(split - top[..., None])
    total = w_stay + w_split.sum(axis=-1)
    # The level now is a mixture over c (P(c | point) = w / total), matched to one Gamma by its
    # mean and variance.
    inverse_stay, inverse_split = 1.0 / rate_post, 1.0 / (sums.rate0 + after_h)
    mean_stay, mean_split = shape_post * inverse_stay, (sums.strength + after_y) * inverse_split
    mean = (w_stay * mean_stay + (w_split * mean_split).sum(axis=-1)) / total
    second = (
        w_stay * mean_stay * (mean_stay + inverse_stay)
        + (w_split * mean_split * (mean_split + inverse_split)).sum(axis=-1)
    ) / total
    variance = np.maximum(second - mean**2, 1e-12 * np.maximum(mean, 1e-300) ** 2)
    usable = mean > 0
    return (
        as_floats(top + np.log(total)),
        as_floats(np.where(usable, mean**2 / variance, shape_post)),
        as_floats(np.where(usable, mean / variance, rate_post)),
    )


def _prefix(values: FloatArray) -> FloatArray:
    """Cumulative sums over the last axis with a leading zero: index c sums days before c."""
    out = np.zeros((*values.shape[:-1], values.shape[-1] + 1))
    np.cumsum(values, axis=-1, out=out[..., 1:])
    return as_floats(out)


def mean_curves(posteriors: list[ResponsePosterior]) -> Curves:
    """The posterior-mean steady-state curves of several units, for the exact solver."""
    terms = [p.mean_terms() for p in posteriors]
    return Curves(
        weight=as_floats(np.stack([t[0] for t in terms])),
        half=as_floats(np.stack([t[1] for t in terms])),
        shape=as_floats(np.stack([t[2] for t in terms])),
    )


def drawn_curves(
    posteriors: list[ResponsePosterior], rng: np.random.Generator, size: int
) -> Curves:
    """``size`` joint posterior draws (Thompson sampling) as one batch: (size, units, 1) terms."""
    cumulative = np.cumsum(np.stack([p.weights for p in posteriors]), axis=1)  # (units, points)
    cumulative /= cumulative[:, -1:]
    rows = np.arange(len(posteriors))[:, None]
    # One binary search for every unit: unit u's cumulative weights live in [2u, 2u + 1].
    picks = rng.random((len(posteriors), size)) + 2.0 * rows
    found = np.searchsorted((cumulative + 2.0 * rows).ravel(), picks.ravel(), side="right")
    points = np.minimum(
        found.reshape(picks.shape) - rows * cumulative.shape[1], cumulative.shape[1] - 1
    )  # (units, size)
    shape = np.stack([p.shape for p in posteriors])[rows, points]
    rate = np.stack([p.rate for p in posteriors])[rows, points]
    a = rng.gamma(shape, 1.0 / rate)
    half = np.stack([p.scales for p in posteriors])[rows, points]
    hill = np.stack([p.shapes for p in posteriors])[rows, points]
    return Curves(
        weight=as_floats(a.T[..., None]),
        half=as_floats(half.T[..., None]),
        shape=as_floats(hill.T[..., None]),
    )
