"""Every guard rail on its own: pacing, bounds, step limit, exploration floor, freeze, alerts."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from clarion.optimize.alerts import cpa_drift_alerts, pacing_alert
from clarion.optimize.allocator import UnitHistory, allocate
from clarion.optimize.contracts import BudgetPolicy
from clarion.optimize.guard_rails import paced_daily_total, step_bounds
from clarion.stats.response_curves import ResponsePrior

POLICY = BudgetPolicy(min_days=0, min_results=0)
PRIOR = ResponsePrior(reference_spend=100.0, expected_at_reference=5.0)


def _histories(days: int, rates: list[float]) -> list[UnitHistory]:
    spend = np.full(days, 100.0)
    return [UnitHistory(spend, np.full(days, rate), PRIOR) for rate in rates]


def _allocate(policy: BudgetPolicy, **kw: object) -> np.ndarray:
    args: dict[str, object] = {
        "histories": _histories(10, [2.0, 8.0, 20.0]),
        "minimum": np.zeros(3),
        "maximum": np.full(3, 1000.0),
        "current": None,
        "remaining": 3000.0,
        "days_left": 10,
        "policy": policy,
        "rng": np.random.default_rng(0),
    }
    args.update(kw)
    return allocate(**args).split  # type: ignore[arg-type]


def test_pacing_spreads_what_is_left_over_the_days_left_and_never_front_loads() -> None:
    assert paced_daily_total(3000.0, 10) == 300.0
    assert paced_daily_total(3000.0, 0) == 0.0
    assert _allocate(POLICY).sum() == pytest.approx(300.0)


def test_unit_minimums_and_maximums_hold() -> None:
    split = _allocate(POLICY, minimum=np.array([50.0, 0, 0]), maximum=np.array([1000, 1000, 120.0]))

    assert split[0] >= 50.0 - 1e-9 and split[2] <= 120.0 + 1e-9


def test_the_change_per_step_is_limited() -> None:
    current = np.array([100.0, 100.0, 100.0])
    split = _allocate(BudgetPolicy(min_days=0, min_results=0, max_step_change=0.2), current=current)

    assert np.all(np.abs(split - current) <= 0.2 * 100.0 + 1e-6)


def test_every_unit_keeps_an_exploration_floor() -> None:
    split = _allocate(BudgetPolicy(min_days=0, min_results=0, exploration_floor=0.3))

    assert split.min() >= 0.3 * 300.0 / 3 - 1e-6


def test_thin_data_freezes_the_split() -> None:
    current = np.array([150.0, 100.0, 50.0])
    thin = BudgetPolicy(min_days=5, min_results=1000)

    result = allocate(
        _histories(2, [2.0, 8.0, 20.0]),
        np.zeros(3),
        np.full(3, 1000.0),
        current,
        remaining=3000.0,
        days_left=10,
        policy=thin,
        rng=np.random.default_rng(0),
    )

    assert result.frozen and result.split == pytest.approx(current)
    assert "frozen" in result.notes[0]


def test_by_default_the_split_holds_until_a_day_of_results_then_may_move() -> None:
    current = np.array([100.0, 100.0, 100.0])

    def step(days: int, rates: list[float]) -> tuple[bool, np.ndarray]:
        result = allocate(
            _histories(days, rates),
            np.zeros(3),
            np.full(3, 1000.0),
            current,
            remaining=3000.0,
            days_left=10,
            policy=BudgetPolicy(),  # decision 0048: one day and five conversions
            rng=np.random.default_rng(0),
        )
        return result.frozen, result.split

    assert step(0, [2.0, 8.0, 20.0])[0]  # day one: only priors, nothing moves
    assert step(1, [1.0, 1.0, 2.0])[0]  # a day with four conversions: still too thin
    frozen, split = step(1, [2.0, 8.0, 20.0])
    assert not frozen and split[2] > current[2]


def test_money_moves_toward_the_unit_that_converts_best() -> None:
    split = _allocate(POLICY)

    assert split[2] > split[1] > split[0]


def test_a_cpa_target_holds_spend_back_when_more_would_break_it() -> None:
    capped = BudgetPolicy(min_days=0, min_results=0, objective="cpa", target_cpa=Decimal(12))

    result = allocate(
        _histories(10, [2.0, 4.0, 8.0]),
        np.zeros(3),
        np.full(3, 1000.0),
        None,
        remaining=30000.0,
        days_left=10,
        policy=capped,
        rng=np.random.default_rng(0),
    )

    assert result.daily_total < 3000.0
    assert any("CPA" in note for note in result.notes)


def test_infeasible_rails_give_way_in_order_and_say_so() -> None:
    bounds = step_bounds(np.array([200.0, 200.0]), np.full(2, 500.0), None, 300.0, POLICY)

    assert bounds.daily_total == 400.0
    assert "minimums exceed" in bounds.notes[0]


def test_a_unit_whose_cpa_is_clearly_beyond_target_raises_an_alert() -> None:
    policy = BudgetPolicy(objective="cpa", target_cpa=Decimal(20))
    spend = [[100.0] * 7, [100.0] * 7]
    results = [[5.0] * 7, [1.0] * 7]  # CPA 20 and 100

    alerts = cpa_drift_alerts(["good", "bad"], spend, results, policy)

    assert [a.unit for a in alerts] == ["bad"]


def test_spend_off_pace_raises_an_alert_and_on_pace_does_not() -> None:
    assert pacing_alert(1000.0, 3000.0, 10, 30, POLICY) is None
    behind = pacing_alert(500.0, 3000.0, 10, 30, POLICY)
    assert behind is not None and "behind pace" in behind.message
