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
) -> ResponsePosterior:
    """The posterior after observing daily ``spend`` and ``results`` (same length, oldest first).

    With no days the posterior is the prior, so an allocation can be made on day one. With a
    ``half_life_days``, a day's evidence counts half as much that many days later (a tempered
    likelihood), so a unit whose response degrades is re-learned instead of averaged away.
    """
    x, y = as_floats(spend), as_floats(results)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("spend and results must be one value per day, the same number of days")
    (posterior,) = fit_responses(x[None, :], y[None, :], [prior], half_life_days=half_life_days)
    return posterior


def fit_responses(
    spend: FloatArray,
    results: FloatArray,
    priors: Sequence[ResponsePrior],
    *,
    half_life_days: float | None = None,
) -> list[ResponsePosterior]:
    """``fit_response`` for many units at once: ``spend`` and ``results`` are (units, days).

    The priors may differ in reference spend and expected results, not in their grid.
    """
    x, y = as_floats(spend), as_floats(results)
    if x.shape != y.shape or x.ndim != 2 or x.shape[0] != len(priors):
        raise ValueError("spend and results must be one value per day, the same number of days")
    if np.any(x < 0) or np.any(y < 0) or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("spend and results must be finite and not negative")
    first = priors[0]
    grid = (first.saturation_multiples, first.shapes, first.carryovers, first.strength)
    if any((p.saturation_multiples, p.shapes, p.carryovers, p.strength) != grid for p in priors):
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
    # A Gamma prior per point whose mean gives the expected results at the reference spend.
    at_reference = _hill(reference[:, None], scale, hill[None, :])  # (units, points)
    shape0 = np.full((units, points), first.strength)
    rate0 = first.strength * at_reference / expected[:, None]
    if days == 0:
        weights = np.full((units, points), 1.0 / points)
        return [
            ResponsePosterior(scale[u], hill, lam, weights[u], shape0[u], rate0[u], 0, 0.0)
            for u in range(units)
        ]
    level = np.zeros((units, lambdas.size))
    carry = np.empty((units, lambdas.size, days))
    for t in range(days):
        level = (1.0 - lambdas) * x[:, t : t + 1] + lambdas * level
        carry[:, :, t] = level
    # log h = −log1p((s / A)^k), built by broadcasting over (units, half, shape, lambda, days).
    log_carry = np.log(np.maximum(carry, 1e-12))[:, None, None, :, :]
    log_half = np.log(scale[:, :: shapes.size * lambdas.size])[:, :, None, None, None]
    ratio = np.exp(shapes[None, None, :, None, None] * (log_half - log_carry))
    ratio = np.where(carry[:, None, None, :, :] > 0, ratio, np.inf)
    log_h_all = (-np.log1p(ratio)).reshape(units, points, days)
    h = np.exp(log_h_all)
    age = np.arange(days - 1, -1, -1, dtype=np.float64)
    discount = np.ones(days) if half_life_days is None else 0.5 ** (age / half_life_days)
    y_seen = y * discount  # (units, days)
    total_y = y_seen.sum(axis=1, keepdims=True)  # (units, 1)
    exposure = (h * discount).sum(axis=2)  # (units, points)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_h = np.where(y_seen[:, None, :] > 0, y_seen[:, None, :] * log_h_all, 0.0)
    log_like = (
        log_h.sum(axis=2)
        + shape0 * np.log(rate0)
        - (shape0 + total_y) * np.log(rate0 + exposure)
        + gammaln(shape0 + total_y)
        - gammaln(shape0)
    )
    log_like = np.where(np.isnan(log_like), -np.inf, log_like)
    weights = np.exp(log_like - log_like.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    shape_post, rate_post = shape0 + total_y, rate0 + exposure
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
