"""The exact budget split: maximise summed concave response curves under per-unit bounds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clarion.stats.arrays import FloatArray, as_floats

_ITERATIONS = 200  # bisection steps on the marginal return; 2^-200 is far below float precision


@dataclass(frozen=True)
class Curves:
    """Per-unit response to daily spend, each a sum of saturating terms.

    Unit ``i`` returns ``sum_k weight[i, k] * (1 - exp(-spend / scale[i, k]))`` per day:
    increasing and concave, so the optimum is where every unconstrained unit has the same
    marginal return. A single fitted or drawn curve is the case ``k = 1``.
    """

    weight: FloatArray  # (units, terms), conversions (or value) per day at full saturation
    scale: FloatArray  # (units, terms), spend per day at which a term reaches 63%

    def __post_init__(self) -> None:
        if self.weight.shape != self.scale.shape or self.weight.ndim != 2:
            raise ValueError("weight and scale must both be (units, terms) arrays")
        if np.any(self.scale <= 0) or np.any(self.weight < 0):
            raise ValueError("scales must be positive and weights not negative")

    @property
    def units(self) -> int:
        return int(self.weight.shape[0])

    def response(self, spend: FloatArray) -> FloatArray:
        """Expected result per unit at daily ``spend`` (one value per unit)."""
        x = as_floats(spend)[:, None]
        return as_floats(np.sum(self.weight * -np.expm1(-x / self.scale), axis=1))

    def marginal(self, spend: FloatArray) -> FloatArray:
        """Extra result per extra unit of money at ``spend``, per unit."""
        x = as_floats(spend)[:, None]
        return as_floats(np.sum(self.weight / self.scale * np.exp(-x / self.scale), axis=1))


def _spend_at(curves: Curves, mu: float, low: FloatArray, high: FloatArray) -> FloatArray:
    """Per unit, the spend within [low, high] whose marginal return is ``mu``."""
    if curves.weight.shape[1] == 1:
        # One term inverts in closed form: w/s·exp(-x/s) = mu  ⇔  x = s·ln(w / (s·mu)).
        w, s = curves.weight[:, 0], curves.scale[:, 0]
        with np.errstate(divide="ignore"):
            x = s * np.log(np.maximum(w, 1e-300) / (s * mu))
        return as_floats(np.clip(x, low, high))
    lo, hi = low.copy(), high.copy()
    for _ in range(80):  # the marginal return falls with spend: bisect each unit at once
        mid = (lo + hi) / 2
        above = curves.marginal(mid) > mu
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return as_floats((lo + hi) / 2)


def optimal_split(curves: Curves, total: float, low: FloatArray, high: FloatArray) -> FloatArray:
    """The daily spends (low ≤ x ≤ high, summing to ``total``) with the largest summed response.

    Bisects on the common marginal return (the KKT condition of a concave problem), then
    spreads the rounding remainder over the units strictly inside their bounds.
    """
    low, high = as_floats(low), as_floats(high)
    if low.shape != (curves.units,) or high.shape != (curves.units,):
        raise ValueError("one lower and one upper bound per unit")
    if np.any(low > high):
        raise ValueError("a unit's lower bound is above its upper bound")
    if total < float(low.sum()) - 1e-9 or total > float(high.sum()) + 1e-9:
        raise ValueError(
            f"the total {total:.2f} is outside what the bounds allow "
            f"({float(low.sum()):.2f} to {float(high.sum()):.2f})"
        )
    if np.isclose(total, low.sum()):
        return low.copy()
    if np.isclose(total, high.sum()):
        return high.copy()
    marginal_low = curves.marginal(low)
    mu_lo, mu_hi = 0.0, float(marginal_low.max()) * 2 + 1e-12
    for _ in range(_ITERATIONS):
        mu = (mu_lo + mu_hi) / 2
        if float(_spend_at(curves, mu, low, high).sum()) > total:
            mu_lo = mu
        else:
            mu_hi = mu
        if mu_hi - mu_lo <= 1e-15 * mu_hi:
            break
    spend = _spend_at(curves, mu_hi, low, high)
    remainder = total - float(spend.sum())
    free = (spend < high - 1e-12) if remainder > 0 else (spend > low + 1e-12)
    if remainder != 0 and free.any():
        room = np.where(free, (high - spend) if remainder > 0 else (spend - low), 0.0)
        spend = spend + np.sign(remainder) * room * min(1.0, abs(remainder) / room.sum())
    return as_floats(np.clip(spend, low, high))
