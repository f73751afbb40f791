"""Each unit's response to spend (saturation, carry-over), learned by an exact grid posterior.

Model, per unit and day ``t``: carried spend ``A_t = (1 − λ)·x_t + λ·A_{t−1}`` (geometric
carry-over, normalised so steady spend ``x`` carries to ``x``); results
``y_t ~ Poisson(a · A_t^k / (A_t^k + s^k))`` (Hill saturation, concave for ``k ≤ 1``). The
half-saturation spend ``s``, shape ``k`` and carry-over ``λ`` range over a grid; given them
the model is linear in ``a`` and a Gamma prior on ``a`` is conjugate, so the posterior is an
exact mixture of Gammas — no sampler, milliseconds per unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, logsumexp

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
    if np.any(x < 0) or np.any(y < 0) or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("spend and results must be finite and not negative")
    lambdas = as_floats(prior.carryovers)
    halves = as_floats(prior.saturation_multiples) * prior.reference_spend
    shapes = as_floats(prior.shapes)
    # Grid points ordered (half, shape, carry-over), carry-over fastest.
    scale = np.repeat(halves, shapes.size * lambdas.size)
    hill = np.tile(np.repeat(shapes, lambdas.size), halves.size)
    lam = np.tile(lambdas, halves.size * shapes.size)
    # A Gamma prior per point whose mean gives the expected results at the reference spend.
    at_reference = _hill(np.full(scale.size, prior.reference_spend), scale, hill)
    shape0 = np.full(scale.size, prior.strength)
    rate0 = prior.strength * at_reference / prior.expected_at_reference
    if x.size == 0:
        weights = np.full(scale.size, 1.0 / scale.size)
        return ResponsePosterior(scale, hill, lam, weights, shape0, rate0, 0, 0.0)
    carry = carried(x, lambdas)  # (lambdas, days)
    carry_points = np.tile(carry, (halves.size * shapes.size, 1))  # (points, days)
    h = _hill(carry_points, scale[:, None], hill[:, None])
    age = np.arange(x.size - 1, -1, -1, dtype=np.float64)
    discount = np.ones(x.size) if half_life_days is None else 0.5 ** (age / half_life_days)
    y_seen = y * discount
    total_y = float(y_seen.sum())
    exposure = (h * discount[None, :]).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_h = np.where(y_seen[None, :] > 0, y_seen[None, :] * np.log(h), 0.0)
    log_like = (
        log_h.sum(axis=1)
        + shape0 * np.log(rate0)
        - (shape0 + total_y) * np.log(rate0 + exposure)
        + gammaln(shape0 + total_y)
        - gammaln(shape0)
    )
    log_like = np.where(np.isnan(log_like), -np.inf, log_like)
    weights = np.exp(log_like - logsumexp(log_like))
    return ResponsePosterior(
        scales=as_floats(scale),
        shapes=as_floats(hill),
        carryovers=as_floats(lam),
        weights=as_floats(weights / weights.sum()),
        shape=as_floats(shape0 + total_y),
        rate=as_floats(rate0 + exposure),
        days=int(x.size),
        results=total_y,
    )


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
    draws = [p.draw(rng, size) for p in posteriors]
    parts = [as_floats(np.stack([d[i] for d in draws], axis=-1)[..., None]) for i in range(3)]
    return Curves(weight=parts[0], half=parts[1], shape=parts[2])
