"""The budget slice in a simulated campaign: recommend and approve, auto-apply, history, revert."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pytest
from budget_world import START, UNITS, SimulatedMarket, campaign

from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.core.errors import Conflict, InvalidInput
from clarion.instance import Instance
from clarion.optimize import service as budget
from clarion.optimize.contracts import BudgetPolicy, DailyResults, UnitSpec, unit_key_text

TRUTH = {UNITS[0].key: (6.0, 80.0), UNITS[1].key: (14.0, 200.0), UNITS[2].key: (30.0, 400.0)}


def _run(instance: Instance, workspace_id: str, days: int, market: SimulatedMarket) -> None:
    """Run the campaign day by day: each evening recommend tomorrow's split (auto-applied or
    approved), then deliver it and observe."""
    clock = instance.clock
    assert isinstance(clock, SimulatedClock)
    clock.set(datetime.combine(START - timedelta(days=1), time(18), UTC))
    observations: dict[str, DailyResults] = {
        unit_key_text(u.key): DailyResults([], []) for u in UNITS
    }
    rng = np.random.default_rng(5)
    for _ in range(days):
        change, _ = budget.recommend(
            instance.store,
            workspace_id,
            "budget-test",
            observations,
            clock=instance.clock,
            ids=instance.ids,
            rng=rng,
            platforms=[market],
        )
        if change.status == "recommended":
            budget.apply(
                instance.store,
                workspace_id,
                "budget-test",
                change.id,
                clock=instance.clock,
                actor="marketer",
                platforms=[market],
            )
        instance.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
        for report in market.report(instance.clock.now().date()):
            seen = observations[unit_key_text(report.unit)]
            seen.spend.append(float(report.cost))
            seen.results.append(float(report.conversions or 0))


@pytest.mark.parametrize("mode", ["recommend", "auto"])
def test_the_allocator_runs_a_simulated_campaign_in_both_modes(
    instance: Instance, workspace: Workspace, mode: str
) -> None:
    campaign(instance, workspace.id)
    budget.set_policy(
        instance.store,
        workspace.id,
        "budget-test",
        BudgetPolicy(mode=mode),
        clock=instance.clock,
        actor="test",
    )
    market = SimulatedMarket(TRUTH)

    _run(instance, workspace.id, 12, market)

    state = budget.budget_state(instance.store, workspace.id, "budget-test")
    assert state.current is not None
    split = state.current.split
    assert sum(split.values()) == pytest.approx(Decimal(300), abs=Decimal("0.05"))
    assert split["display/retarget"] > split["search/brand"]  # money followed the response
    changes = budget.history(instance.store, workspace.id, "budget-test")
    assert len(changes) == 12 and all(c.status == "applied" for c in changes)
    assert {c.applied_by for c in changes} == {"allocator" if mode == "auto" else "marketer"}
    assert len(market.calls) == 12


def test_a_change_is_reversible_and_the_revert_is_logged(
    instance: Instance, workspace: Workspace
) -> None:
    campaign(instance, workspace.id)
    market = SimulatedMarket(TRUTH)
    _run(instance, workspace.id, 5, market)
    applied = budget.history(instance.store, workspace.id, "budget-test")
    last, before = applied[0], applied[1]

    undone = budget.revert(
        instance.store,
        workspace.id,
        "budget-test",
        last.id,
        clock=instance.clock,
        ids=instance.ids,
        actor="marketer",
        platforms=[market],
    )

    assert undone.reverts == last.id and undone.split == before.split
    current = budget.budget_state(instance.store, workspace.id, "budget-test").current
    assert current is not None and current.id == undone.id
    assert market.calls[-1][1] == {u.key: before.split[unit_key_text(u.key)] for u in UNITS}


def test_only_a_recommended_change_can_be_applied(instance: Instance, workspace: Workspace) -> None:
    campaign(instance, workspace.id)
    _run(instance, workspace.id, 1, SimulatedMarket(TRUTH))
    (applied,) = budget.history(instance.store, workspace.id, "budget-test")

    with pytest.raises(Conflict, match="only a recommended one applies"):
        budget.apply(
            instance.store,
            workspace.id,
            "budget-test",
            applied.id,
            clock=instance.clock,
            actor="marketer",
        )


def test_bad_units_are_refused_naming_each_problem(
    instance: Instance, workspace: Workspace
) -> None:
    campaign(instance, workspace.id)
    bad = [
        UnitSpec(channel="search", ad_set="a", min_daily=Decimal(50), max_daily=Decimal(10)),
        UnitSpec(channel="search", ad_set="a", max_daily=Decimal("10.001")),
    ]

    with pytest.raises(InvalidInput) as raised:
        budget.set_units(
            instance.store,
            workspace.id,
            "budget-test",
            bad,
            clock=instance.clock,
            ids=instance.ids,
        )

    paths = {p.path for p in raised.value.problems}
    assert paths == {"units[0].min_daily", "units[1]", "units[1].max_daily"}
    assert len(budget.budget_state(instance.store, workspace.id, "budget-test").units) == 3


def test_a_split_naming_an_unknown_unit_is_refused(
    instance: Instance, workspace: Workspace
) -> None:
    campaign(instance, workspace.id)

    with pytest.raises(InvalidInput, match="not valid"):
        budget.propose(
            instance.store,
            workspace.id,
            "budget-test",
            {"x'; DROP TABLE budget_units;--": Decimal(1)},
            reason="",
            expected={},
            clock=instance.clock,
            ids=instance.ids,
            actor="test",
        )
