"""Ground truth of the paid market: true marginal CPA per unit and the oracle budget split."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from types import MappingProxyType
from typing import Final

from clarion.core.errors import FieldProblem, InvalidInput
from clarion.delivery.ad_platform import UnitKey
from clarion.simulate.response import ResponseCurve

CENT: Final = Decimal("0.01")
_ROUNDS: Final = 64  # bisection steps on the multiplier: a double has no more to give


@dataclass(frozen=True)
class OracleSplit:
    """The best daily split of a budget: spend per unit and the conversions it truly buys."""

    spend: Mapping[UnitKey, Decimal]
    conversions: float  # expected conversions per day at steady state
    marginal_cpa: float  # the common marginal CPA of the units not held at a bound


class GroundTruth:
    """What was true in the paid market: for tests and benchmarks, never for deciding code."""

    def __init__(self, curves: Mapping[UnitKey, ResponseCurve]) -> None:
        self._curves = MappingProxyType(dict(curves))

    @property
    def units(self) -> tuple[UnitKey, ...]:
        """Every unit of every simulated platform."""
        return tuple(self._curves)

    def curve(self, unit: UnitKey) -> ResponseCurve:
        """The unit's true response curve."""
        try:
            return self._curves[unit]
        except KeyError:
            raise InvalidInput(
                f"unknown unit {unit}", [FieldProblem("unit", "not in the market")]
            ) from None

    def marginal_cpa(self, unit: UnitKey, spend: Decimal | float, day: date | None = None) -> float:
        """Cost of one more conversion per day for ``unit`` at a sustained daily ``spend``."""
        return self.curve(unit).marginal_cpa(float(spend), day)

    def conversions(self, unit: UnitKey, spend: Decimal | float, day: date | None = None) -> float:
        """Expected conversions per day of ``unit`` at a sustained daily ``spend``."""
        return self.curve(unit).steady_conversions(float(spend), day)

    def total_conversions(
        self, split: Mapping[UnitKey, Decimal | float], day: date | None = None
    ) -> float:
        """Expected conversions per day of a whole split at steady state."""
        return sum(self.conversions(unit, spend, day) for unit, spend in split.items())

    def oracle_split(
        self,
        budget: Decimal,
        *,
        minimum: Mapping[UnitKey, Decimal] | None = None,
        maximum: Mapping[UnitKey, Decimal] | None = None,
        day: date | None = None,
    ) -> OracleSplit:
        """The daily split of ``budget`` over all units that maximises steady-state conversions.

        Marginal returns are equalised by bisection on the Lagrange multiplier; a unit's
        spend is held within its ``minimum`` and ``maximum`` (0 and the budget by default).
        Amounts are rounded down to cents and the leftover cents go to the units with the
        best marginal return, so the split sums to ``budget`` exactly.
        """
        units = self.units
        low = {u: Decimal((minimum or {}).get(u, 0)) for u in units}
        high = {u: Decimal((maximum or {}).get(u, budget)) for u in units}
        _check_bounds(budget, low, high, (minimum or {}).keys() | (maximum or {}).keys(), units)

        def spend_at(slope: float) -> dict[UnitKey, float]:
            return {
                u: min(
                    max(self.curve(u).spend_for_marginal(slope, day), float(low[u])), float(high[u])
                )
                for u in units
            }

        target = float(budget)
        slope_low, slope_high = (
            0.0,
            max(self.curve(u).marginal_conversions(float(low[u]), day) for u in units),
        )
        if slope_high == float("inf"):
            slope_high = 1e12
        for _ in range(_ROUNDS):
            middle = 0.5 * (slope_low + slope_high)
            if middle <= 0.0 or sum(spend_at(middle).values()) > target:
                slope_low = middle
            else:
                slope_high = middle
        raw = spend_at(slope_high)
        spend = _to_cents(
            raw, budget, low, high, lambda u, s: self.curve(u).marginal_conversions(s, day)
        )
        free = [u for u in units if low[u] < spend[u] < high[u]]
        marginal = self.marginal_cpa(free[0], spend[free[0]], day) if free else float("nan")
        return OracleSplit(
            spend=MappingProxyType(spend),
            conversions=self.total_conversions(spend, day),
            marginal_cpa=marginal,
        )


def _check_bounds(
    budget: Decimal,
    low: Mapping[UnitKey, Decimal],
    high: Mapping[UnitKey, Decimal],
    named: Collection[UnitKey],
    units: tuple[UnitKey, ...],
) -> None:
    problems: list[FieldProblem] = []
    if budget <= 0:
        problems.append(FieldProblem("budget", "must be above 0"))
    for unit in named:
        if unit not in units:
            problems.append(FieldProblem(f"bounds.{unit.channel}/{unit.ad_set}", "unknown unit"))
    for unit in units:
        if low[unit] < 0 or low[unit] > high[unit]:
            problems.append(
                FieldProblem(
                    f"bounds.{unit.channel}/{unit.ad_set}",
                    f"minimum {low[unit]} must be between 0 and the maximum {high[unit]}",
                )
            )
    if not problems and not sum(low.values()) <= budget <= sum(high.values()):
        problems.append(
            FieldProblem(
                "budget",
                f"{budget} is outside what the bounds allow "
                f"({sum(low.values())} to {sum(high.values())})",
            )
        )
    if problems:
        raise InvalidInput(f"oracle split: {problems[0].path} {problems[0].problem}", problems)


def _to_cents(
    raw: Mapping[UnitKey, float],
    budget: Decimal,
    low: Mapping[UnitKey, Decimal],
    high: Mapping[UnitKey, Decimal],
    marginal: Callable[[UnitKey, float], float],
) -> dict[UnitKey, Decimal]:
    spend = {
        u: min(max(Decimal(repr(s)).quantize(CENT, rounding=ROUND_DOWN), low[u]), high[u])
        for u, s in raw.items()
    }
    left = budget - sum(spend.values())
    while left >= CENT:  # a handful of cents: give each to the best marginal return with room
        room = [u for u in spend if spend[u] + CENT <= high[u]]
        best = max(room, key=lambda u: marginal(u, float(spend[u])))
        spend[best] += CENT
        left -= CENT
    return spend
