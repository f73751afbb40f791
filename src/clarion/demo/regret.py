"""How much the allocator left on the table: its budgets against the simulator's oracle split."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from clarion.optimize import service as budget
from clarion.simulate.paid_market import PaidMarket
from clarion.stores.app import AppStore


@dataclass(frozen=True)
class AllocatorRegret:
    """Expected conversions of the budgets applied, of an even split and of the oracle's."""

    days: int
    spent: float  # sum of the daily budgets applied
    achieved: float  # expected conversions of the budgets the allocator applied
    even: float  # of the plan's even split, held fixed
    oracle: float  # of the best split of each day's budget, known only to the simulator

    @property
    def regret(self) -> float:
        """1 − achieved / oracle: the share of attainable conversions missed."""
        return 1.0 - self.achieved / self.oracle if self.oracle else 0.0

    @property
    def even_regret(self) -> float:
        """The same for the even split held fixed: the baseline the allocator must beat."""
        return 1.0 - self.even / self.oracle if self.oracle else 0.0

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready numbers, regrets included."""
        return {**asdict(self), "regret": self.regret, "even_regret": self.even_regret}


def allocator_regret(
    paid: PaidMarket,
    store: AppStore,
    *,
    workspace_id: str,
    campaign: str,
    start: date,
    days: int,
    daily: Decimal,
) -> AllocatorRegret:
    """Steady-state expected conversions, day by day, of the applied, even and oracle splits.

    The oracle splits each day's applied total within the units' bounds, so regret measures
    where the money went, not how much of it was spent.
    """
    state = budget.budget_state(store, workspace_id, campaign)
    bounds = {u.key: (u.min_daily, u.max_daily) for u in state.units}
    units = paid.units()
    even = (daily / len(units)).quantize(Decimal("0.01"))
    spent = achieved = even_total = oracle = 0.0
    for offset in range(days):
        day = start + timedelta(days=offset)
        applied = {
            u: platform.budget(u, day)
            for platform in paid.platforms.values()
            for u in platform.units()
        }
        total = sum(applied.values(), Decimal(0))
        spent += float(total)
        achieved += paid.truth.total_conversions(applied, day)
        even_total += paid.truth.total_conversions(dict.fromkeys(units, even), day)
        best = paid.truth.oracle_split(
            total,
            minimum={u: bounds[u][0] for u in units if u in bounds},
            maximum={u: bounds[u][1] for u in units if u in bounds},
            day=day,
        )
        oracle += best.conversions
    return AllocatorRegret(days, spent, achieved, even_total, oracle)
