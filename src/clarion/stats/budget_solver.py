"""The exact budget split: maximise summed concave response curves under per-unit bounds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clarion.stats.arrays import FloatArray, as_floats

_OUTER = 48  # bisection steps on log(marginal return)
_TINY = 1e-9  # spend treated as zero when taking logs
# Where each unit's marginal return is tabulated, as a share of log(high / low): dense enough
# that log-log interpolation of a Hill marginal is far inside the 0.1% the solver promises.
_GRID = np.linspace(0.0, 1.0, 256)


@dataclass(frozen=True)
class Curves:
    """Per-unit response to daily spend, each a sum of Hill saturation terms.

    Unit ``i`` returns ``sum_k weight[i,k] * x**shape[i,k] / (x**shape[i,k] + half[i,k]**shape)``
    per day at a sustained daily spend ``x``. With ``0 < shape ≤ 1`` every term is increasing
    and concave, so the optimum is where every unit inside its bounds has the same marginal
    return. Leading axes batch independent problems (e.g. Thompson draws).
    """

    weight: FloatArray  # (..., units, terms) results per day at full saturation
    half: FloatArray  # (..., units, terms) daily spend giving half of weight
    shape: FloatArray  # (..., units, terms) Hill exponent in (0, 1]

    def __post_init__(self) -> None:
        if not (self.weight.shape == self.half.shape == self.shape.shape) or self.weight.ndim < 2:
            raise ValueError("weight, half and shape must be (..., units, terms) arrays alike")
        if np.any(self.half <= 0) or np.any(self.weight < 0):
            raise ValueError("half-saturation spends must be positive and weights not negative")
        if np.any(self.shape <= 0) or np.any(self.shape > 1):
            raise ValueError("Hill shapes must be in (0, 1] for the curves to be concave")

    @property
    def units(self) -> int:
        return int(self.weight.shape[-2])

    def response(self, spend: FloatArray) -> FloatArray:
        """Expected result per unit at daily ``spend`` (shape ``(..., units)``)."""
        x = np.maximum(as_floats(spend), 0.0)[..., None]
        ratio = (self.half / np.maximum(x, _TINY)) ** self.shape
        out = np.where(x > 0, self.weight / (1.0 + ratio), 0.0)
        return as_floats(out.sum(axis=-1))

    def marginal_grid(self, spend: FloatArray) -> FloatArray:
        """The marginal return at spends of shape ``(..., units, points)``."""
        x = np.maximum(as_floats(spend), _TINY)[..., None]
        ratio = (self.half[..., None, :] / x) ** self.shape[..., None, :]
        terms = self.weight[..., None, :] * self.shape[..., None, :] * ratio
        return as_floats((terms / (x * (1.0 + ratio) ** 2)).sum(-1))

    def marginal(self, spend: FloatArray) -> FloatArray:
        """Extra result per extra unit of money at ``spend``, per unit."""
        x = np.maximum(as_floats(spend), _TINY)[..., None]
        ratio = (self.half / x) ** self.shape
        return as_floats((self.weight * self.shape * ratio / (x * (1.0 + ratio) ** 2)).sum(-1))


def _table(curves: Curves, low: FloatArray, high: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per unit, log spend on a geometric grid from low to high and the log marginal there."""
    lo = np.log(np.maximum(low, _TINY))[..., None]
    hi = np.log(np.maximum(high, _TINY))[..., None]
    log_x = lo + (hi - lo) * _GRID
    log_m = np.log(np.maximum(curves.marginal_grid(np.exp(log_x)), 1e-300))
    return as_floats(log_x), as_floats(log_m)


def _spend_at(
    log_x: FloatArray,
    log_m: FloatArray,
    *,
    sorted_flat: FloatArray,
    offsets: FloatArray,
    log_mu: FloatArray,
    low: FloatArray,
    high: FloatArray,
) -> FloatArray:
    """Per unit, the spend whose marginal return is exp(log_mu), interpolated log-log."""
    # Grid points still worth more than mu, found by one binary search over every unit's table
    # laid end to end (each unit's falling marginals, negated and shifted into its own band).
    query = (-log_mu[..., None] + offsets).ravel()
    points = log_x.shape[-1]
    found = np.searchsorted(sorted_flat, query, side="left").reshape(offsets.shape)
    above = found - np.arange(offsets.size).reshape(offsets.shape) * points
    last = points - 1
    i = np.clip(above, 1, last)[..., None]
    x0, x1 = np.take_along_axis(log_x, i - 1, -1)[..., 0], np.take_along_axis(log_x, i, -1)[..., 0]
    m0, m1 = np.take_along_axis(log_m, i - 1, -1)[..., 0], np.take_along_axis(log_m, i, -1)[..., 0]
    step = np.where(m0 != m1, (m0 - log_mu[..., None]) / np.where(m0 != m1, m0 - m1, 1.0), 0.0)
    x = np.exp(x0 + np.clip(step, 0.0, 1.0) * (x1 - x0))
    x = np.where(above == 0, low, np.where(above > last, high, x))
    return as_floats(np.clip(x, low, high))


def optimal_split(
    curves: Curves, total: float | FloatArray, low: FloatArray, high: FloatArray
) -> FloatArray:
    """The daily spends (low ≤ x ≤ high, summing to ``total``) with the largest summed response.

    Bisects on the common marginal return (the KKT condition of a concave problem), then
    spreads the remainder over the units strictly inside their bounds so the total is exact.
    """
    batch = curves.weight.shape[:-2]
    low = np.broadcast_to(as_floats(low), (*batch, curves.units)).copy()
    high = np.broadcast_to(as_floats(high), (*batch, curves.units)).copy()
    total_b = np.broadcast_to(as_floats(total), batch).copy()
    if np.any(low > high):
        raise ValueError("a unit's lower bound is above its upper bound")
    if np.any(total_b < low.sum(-1) - 1e-6) or np.any(total_b > high.sum(-1) + 1e-6):
        raise ValueError(
            f"the total {float(np.max(total_b)):.2f} is outside what the bounds allow "
            f"({float(np.min(low.sum(-1))):.2f} to {float(np.max(high.sum(-1))):.2f})"
        )
    log_x, log_m = _table(curves, low, high)
    # Keep the tables strictly falling (floating ties at the flat ends would break the search).
    log_m = np.minimum.accumulate(log_m, axis=-1)
    band = float(log_m.max() - log_m.min()) + 2.0
    offsets = np.arange(low.size, dtype=np.float64).reshape(low.shape) * band - float(log_m.min())
    sorted_flat = (-log_m + offsets[..., None]).ravel()
    log_lo = log_m.min(axis=(-2, -1)) - 1.0
    log_hi = log_m.max(axis=(-2, -1)) + 1.0

    def spend_at(log_mu: FloatArray) -> FloatArray:
        return _spend_at(
            log_x,
            log_m,
            sorted_flat=sorted_flat,
            offsets=offsets,
            log_mu=log_mu,
            low=low,
            high=high,
        )

    for _ in range(_OUTER):
        mid = (log_lo + log_hi) / 2
        over = spend_at(mid).sum(-1) > total_b
        log_lo = np.where(over, mid, log_lo)
        log_hi = np.where(over, log_hi, mid)
    spend = spend_at(log_hi)
    remainder = total_b - spend.sum(-1)
    room = np.where(remainder[..., None] > 0, high - spend, spend - low)
    room_sum = np.maximum(room.sum(-1), 1e-300)
    share = np.minimum(1.0, np.abs(remainder) / room_sum)
    spend = spend + np.sign(remainder)[..., None] * room * share[..., None]
    return as_floats(np.clip(spend, low, high))
