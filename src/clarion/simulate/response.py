"""True response of one paid unit: Hill saturation of geometrically adstocked daily spend."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from clarion.core.errors import FieldProblem, InvalidInput


@dataclass(frozen=True)
class Degradation:
    """From ``start`` on the unit converts ``factor`` times as well (creative fatigue, a rival)."""

    start: date
    factor: float


@dataclass(frozen=True)
class ResponseCurve:
    """What one unit truly returns for its spend; the parameters are the simulator's secret.

    Conversions per day average ``top * hill(adstock)`` where the adstock of day t is
    ``spend_t + decay * adstock_{t-1}`` and ``hill(a) = a**shape / (a**shape + half**shape)``.
    Clicks follow the same saturation of the day's own spend (no carry-over), scaled by
    ``clicks_per_conversion``; impressions are bought at ``cpm`` per thousand. ``noise`` is the
    standard deviation of a mean-one log-normal day effect on clicks and conversions.
    ``shape`` is at most 1 so returns are concave and the oracle split is exact.
    """

    top: float  # conversions per day at full saturation
    half: float  # adstocked daily spend that gives half of ``top``
    shape: float = 1.0  # Hill exponent, 0 < shape <= 1
    decay: float = 0.3  # share of yesterday's adstock carried into today, 0 <= decay < 1
    cpm: float = 8.0  # cost per thousand impressions
    clicks_per_conversion: float = 25.0
    noise: float = 0.1
    degradation: Degradation | None = None

    def __post_init__(self) -> None:
        problems = [
            FieldProblem(name, problem)
            for name, ok, problem in (
                ("top", self.top > 0, "must be above 0"),
                ("half", self.half > 0, "must be above 0"),
                ("shape", 0 < self.shape <= 1, "must be in (0, 1]"),
                ("decay", 0 <= self.decay < 1, "must be in [0, 1)"),
                ("cpm", self.cpm > 0, "must be above 0"),
                ("clicks_per_conversion", self.clicks_per_conversion >= 1, "must be at least 1"),
                ("noise", 0 <= self.noise <= 2, "must be in [0, 2]"),
                (
                    "degradation.factor",
                    self.degradation is None or 0 < self.degradation.factor <= 10,
                    "must be in (0, 10]",
                ),
            )
            if not ok
        ]
        if problems:
            raise InvalidInput(
                f"response curve: {problems[0].path} {problems[0].problem}", problems
            )

    def factor(self, day: date | None) -> float:
        """The degradation multiplier in force on ``day`` (1 before it starts or without one)."""
        if self.degradation is None or day is None or day < self.degradation.start:
            return 1.0
        return self.degradation.factor

    def hill(self, adstock: float) -> float:
        """Share of ``top`` reached at this adstocked spend, in [0, 1)."""
        if adstock <= 0:
            return 0.0
        return 1.0 / (1.0 + math.pow(self.half / adstock, self.shape))

    def conversions_at(self, adstock: float, day: date | None = None) -> float:
        """Expected conversions of a day whose adstocked spend is ``adstock``."""
        return self.top * self.factor(day) * self.hill(adstock)

    def steady_conversions(self, spend: float, day: date | None = None) -> float:
        """Expected conversions per day once ``spend`` per day has been sustained for long."""
        return self.conversions_at(spend / (1.0 - self.decay), day)

    def marginal_conversions(self, spend: float, day: date | None = None) -> float:
        """d(conversions per day)/d(spend per day) at a sustained daily ``spend``."""
        carry = 1.0 / (1.0 - self.decay)
        adstock = spend * carry
        if adstock <= 0:
            return math.inf if self.shape < 1 else self.top * self.factor(day) * carry / self.half
        ratio = math.pow(self.half / adstock, self.shape)
        slope = self.shape * ratio / (adstock * (1.0 + ratio) ** 2)
        return self.top * self.factor(day) * slope * carry

    def marginal_cpa(self, spend: float, day: date | None = None) -> float:
        """Cost of one more conversion per day at a sustained daily ``spend``."""
        slope = self.marginal_conversions(spend, day)
        return 0.0 if math.isinf(slope) else 1.0 / slope

    def spend_for_marginal(self, slope: float, day: date | None = None) -> float:
        """The sustained daily spend at which one more unit of spend returns ``slope``."""
        if self.marginal_conversions(0.0, day) <= slope:
            return 0.0
        low, high = 0.0, self.half
        while self.marginal_conversions(high, day) > slope:
            high *= 2.0
        for _ in range(64):  # the slope is decreasing in spend (shape <= 1): bisect
            middle = 0.5 * (low + high)
            if self.marginal_conversions(middle, day) > slope:
                low = middle
            else:
                high = middle
        return 0.5 * (low + high)
