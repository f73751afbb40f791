"""A seeded paid market: simulated platforms per channel and the ground truth behind them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Final

import numpy as np

from clarion.core.clock import Clock
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.delivery.ad_platform import UnitKey
from clarion.simulate.ad_platforms import SimulatedAdPlatform
from clarion.simulate.response import Degradation, ResponseCurve
from clarion.simulate.truth import GroundTruth

CHANNELS: Final = ("search", "social", "display")
AUDIENCES: Final = ("ops-managers", "founders")
# Per channel: (typical CPA at low spend, spend of half saturation, CPM, clicks per conversion).
_TYPICAL: Final = {
    "search": (30.0, 400.0, 20.0, 12.0),
    "social": (45.0, 300.0, 7.0, 30.0),
    "display": (70.0, 250.0, 2.5, 60.0),
}
_OTHER: Final = (55.0, 300.0, 6.0, 30.0)


@dataclass(frozen=True)
class PaidMarket:
    """Simulated platforms (for deciding code) and their ground truth (for judging it only)."""

    platforms: Mapping[str, SimulatedAdPlatform]  # by platform name, e.g. simulated_search
    truth: GroundTruth

    @classmethod
    def from_curves(
        cls,
        curves: Mapping[UnitKey, ResponseCurve],
        *,
        clock: Clock,
        seed: int,
        start: date,
        currency: str = "EUR",
    ) -> PaidMarket:
        """Platforms for the channels of ``curves``, one per channel."""
        channels = dict.fromkeys(unit.channel for unit in curves)
        platforms = {}
        for channel in channels:
            platform = SimulatedAdPlatform(
                channel,
                {u: c for u, c in curves.items() if u.channel == channel},
                clock=clock,
                seed=seed,
                start=start,
                currency=currency,
            )
            platforms[platform.name] = platform
        return cls(platforms=platforms, truth=GroundTruth(curves))

    @classmethod
    def generate(
        cls,
        seed: int,
        *,
        clock: Clock,
        start: date,
        channels: Sequence[str] = CHANNELS,
        audiences: Sequence[str] = AUDIENCES,
        degradation: Degradation | None = None,
        currency: str = "EUR",
    ) -> PaidMarket:
        """A plausible market: one unit per channel and audience, parameters drawn from ``seed``.

        With ``degradation``, the first unit of the first channel degrades from its start.
        """
        rng = np.random.default_rng([seed, 7])
        curves: dict[UnitKey, ResponseCurve] = {}
        for channel in channels:
            cpa, half, cpm, clicks = _TYPICAL.get(channel, _OTHER)
            for audience in audiences:
                unit = UnitKey(channel=channel, ad_set=f"{channel}-{audience}", audience=audience)
                shape = float(rng.uniform(0.6, 1.0))
                unit_half = half * float(rng.lognormal(0.0, 0.35))
                decay = float(rng.uniform(0.1, 0.5))
                # Marginal CPA at zero spend is half*(1-decay)/(top*shape) for shape 1: pick top
                # so the low-spend CPA lands near the channel's typical one.
                top = unit_half * (1.0 - decay) / (cpa * float(rng.lognormal(0.0, 0.3)))
                curves[unit] = ResponseCurve(
                    top=top,
                    half=unit_half,
                    shape=shape,
                    decay=decay,
                    cpm=cpm * float(rng.lognormal(0.0, 0.2)),
                    clicks_per_conversion=clicks,
                )
        if degradation is not None and curves:
            first = next(iter(curves))
            curves[first] = replace(curves[first], degradation=degradation)
        return cls.from_curves(curves, clock=clock, seed=seed, start=start, currency=currency)

    def units(self) -> tuple[UnitKey, ...]:
        """Every unit of every platform."""
        return tuple(u for platform in self.platforms.values() for u in platform.units())

    def set_daily_budgets(self, budgets: Mapping[UnitKey, Decimal], effective: date) -> None:
        """Hand each platform the budgets of its own units; a unit of no platform is an error."""
        known = set(self.units())
        strangers = [u for u in budgets if u not in known]
        if strangers:
            raise InvalidInput(
                f"unit {strangers[0]} is on no simulated platform",
                [FieldProblem("budgets", f"unknown unit {u}") for u in strangers],
            )
        for platform in self.platforms.values():
            mine = {u: b for u, b in budgets.items() if u.channel == platform.channel}
            if mine:
                platform.set_daily_budgets(mine, effective)
