"""A campaign with allocation units and a small simulated ad market the tests run it in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import numpy as np

from clarion.campaigns import service as campaigns
from clarion.campaigns.plan import CampaignPlan
from clarion.delivery.ad_platform import UnitKey, UnitReport
from clarion.instance import Instance
from clarion.optimize import service as budget
from clarion.optimize.contracts import UnitSpec

START, END = date(2027, 2, 2), date(2027, 3, 3)  # 30 days, from the day after the test clock
UNITS = [
    UnitSpec(channel="search", ad_set="brand", max_daily=Decimal(400)),
    UnitSpec(channel="social", ad_set="ops", audience="ops-managers", max_daily=Decimal(400)),
    UnitSpec(channel="display", ad_set="retarget", min_daily=Decimal(5), max_daily=Decimal(400)),
]


def campaign(instance: Instance, workspace_id: str, total: str = "9000") -> str:
    plan = CampaignPlan.model_validate(
        {
            "key": "budget-test",
            "name": "Budget test",
            "objective": "Sell more",
            "start_date": START.isoformat(),
            "end_date": END.isoformat(),
            "budget": {"total": total},
        }
    )
    applied = campaigns.apply_plan(
        instance.store, workspace_id, plan, clock=instance.clock, ids=instance.ids, actor="test"
    )
    budget.set_units(
        instance.store,
        workspace_id,
        applied.campaign.id,
        UNITS,
        clock=instance.clock,
        ids=instance.ids,
    )
    return applied.campaign.id


class SimulatedMarket:
    """An ad platform whose units answer spend with saturating, Poisson-noisy conversions."""

    name = "simulated_test"

    def __init__(self, scale: Mapping[UnitKey, tuple[float, float]], seed: int = 1) -> None:
        self._truth = dict(scale)  # unit -> (conversions at saturation, saturation scale)
        self.budgets: dict[UnitKey, Decimal] = {}
        self.calls: list[tuple[date, dict[UnitKey, Decimal]]] = []
        self._rng = np.random.default_rng(seed)

    def units(self) -> Sequence[UnitKey]:
        return list(self._truth)

    def set_daily_budgets(self, budgets: Mapping[UnitKey, Decimal], effective: date) -> None:
        self.budgets.update(budgets)
        self.calls.append((effective, dict(budgets)))

    def report(self, day: date) -> Sequence[UnitReport]:
        reports = []
        for unit, (a, s) in self._truth.items():
            cost = self.budgets.get(unit, Decimal(0))
            conversions = int(self._rng.poisson(a * -np.expm1(-float(cost) / s)))
            reports.append(UnitReport(unit, day, cost, "EUR", 0, 0, conversions=conversions))
        return reports
