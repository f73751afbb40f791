"""The Wilson score interval of a proportion: sound near 0 and 1 and for few trials."""

from __future__ import annotations

import math

from scipy.stats import norm


def wilson_interval(
    successes: int, trials: int, level: float = 0.95
) -> tuple[float, float, float] | None:
    """``(proportion, low, high)`` at ``level``; None when there are no trials."""
    if trials <= 0:
        return None
    z = float(norm.ppf(0.5 + level / 2))
    p, z2 = successes / trials, z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return p, max(centre - half, 0.0), min(centre + half, 1.0)
