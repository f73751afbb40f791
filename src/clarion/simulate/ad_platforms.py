"""Simulated ad platforms: the ``AdPlatform`` protocol over true response curves, with noise."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

import numpy as np

from clarion.core.clock import Clock
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.delivery.ad_platform import UnitKey, UnitReport
from clarion.simulate.response import ResponseCurve

CENT: Final = Decimal("0.01")
FREQUENCY: Final = 1.6  # impressions per person reached in a day


class SimulatedAdPlatform:
    """One channel's simulated platform: budgets per unit in, noisy daily ``UnitReport``s out.

    A day's report depends only on the seed, the unit and the budgets up to that day, so
    asking again, or in another order, gives the same numbers.
    """

    def __init__(
        self,
        channel: str,
        curves: Mapping[UnitKey, ResponseCurve],
        *,
        clock: Clock,
        seed: int,
        start: date,
        currency: str = "EUR",
        budgets: Mapping[UnitKey, Decimal] | None = None,
    ) -> None:
        strangers = [u for u in curves if u.channel != channel]
        if strangers:
            raise InvalidInput(
                f"unit {strangers[0]} is not on channel {channel!r}",
                [FieldProblem("units", f"every unit must be on {channel!r}")],
            )
        self.name = f"simulated_{channel}"
        self.channel = channel
        self.currency = currency
        self._curves = dict(curves)
        self._order = {unit: index for index, unit in enumerate(self._curves)}
        self._clock = clock
        self._seed = seed
        self._start = start
        # Per unit, the budget changes as (effective day, daily budget), in day order.
        self._schedule: dict[UnitKey, list[tuple[date, Decimal]]] = {u: [] for u in self._curves}
        self._reported: date | None = None
        if budgets:
            self.set_daily_budgets(budgets, start)

    def units(self) -> Sequence[UnitKey]:
        """The units this platform runs for the campaign."""
        return tuple(self._curves)

    def set_daily_budgets(self, budgets: Mapping[UnitKey, Decimal], effective: date) -> None:
        """Budgets per unit from ``effective`` on; a unit left out keeps its budget.

        A day that is already reported cannot be changed: ``effective`` must come after it.
        """
        problems = [
            FieldProblem(f"budgets.{unit.ad_set}", "unknown unit on this platform")
            for unit in budgets
            if unit not in self._curves
        ]
        problems += [
            FieldProblem(f"budgets.{unit.ad_set}", f"{amount} must be a non-negative amount")
            for unit, amount in budgets.items()
            if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0
        ]
        if self._reported is not None and effective <= self._reported:
            problems.append(
                FieldProblem(
                    "effective", f"{effective} is already reported (up to {self._reported})"
                )
            )
        if problems:
            raise InvalidInput(f"{self.name}: {problems[0].path} {problems[0].problem}", problems)
        for unit, amount in budgets.items():
            changes = [c for c in self._schedule[unit] if c[0] < effective]
            changes.append((effective, amount.quantize(CENT)))
            self._schedule[unit] = changes

    def budget(self, unit: UnitKey, day: date) -> Decimal:
        """The daily budget of ``unit`` in force on ``day`` (0 before any was set)."""
        amount = Decimal(0)
        for effective, value in self._schedule[unit]:
            if effective <= day:
                amount = value
        return amount

    def report(self, day: date) -> Sequence[UnitReport]:
        """What was delivered on ``day``, one row per unit with a budget; the day must be over."""
        today = self._clock.now().date()
        if day >= today:
            raise InvalidInput(
                f"{self.name}: {day} is not over yet (today is {today})",
                [FieldProblem("day", "must be a finished day")],
            )
        if day < self._start:
            return ()
        self._reported = max(day, self._reported or day)
        return tuple(
            report for unit in self._curves if (report := self._deliver(unit, day)) is not None
        )

    def _adstock(self, unit: UnitKey, day: date) -> float:
        decay = self._curves[unit].decay
        adstock, current = 0.0, self._start
        while current <= day:
            adstock = float(self.budget(unit, current)) + decay * adstock
            current += timedelta(days=1)
        return adstock

    def _deliver(self, unit: UnitKey, day: date) -> UnitReport | None:
        spend = self.budget(unit, day)
        if spend <= 0:
            return None
        curve = self._curves[unit]
        rng = np.random.default_rng([self._seed, self._order[unit], day.toordinal()])
        luck = rng.lognormal(-0.5 * curve.noise**2, curve.noise, size=2) if curve.noise else (1, 1)
        impressions = int(rng.poisson(1000.0 * float(spend) / curve.cpm))
        expected_clicks = curve.clicks_per_conversion * curve.conversions_at(float(spend), day)
        click_rate = min(1.0, luck[0] * expected_clicks / max(impressions, 1))
        clicks = int(rng.binomial(impressions, click_rate))
        conversions = int(
            rng.poisson(luck[1] * curve.conversions_at(self._adstock(unit, day), day))
        )
        return UnitReport(
            unit=unit,
            day=day,
            cost=spend,
            currency=self.currency,
            impressions=impressions,
            clicks=clicks,
            reach=math.ceil(impressions / FREQUENCY),
            conversions=conversions,
        )
