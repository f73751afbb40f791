"""Simulated ad platforms: the AdPlatform shape, saturation, carry-over, noise, ground truth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from clarion.core.clock import SimulatedClock
from clarion.core.errors import InvalidInput
from clarion.delivery.ad_platform import AdPlatform, UnitKey
from clarion.simulate.paid_market import PaidMarket
from clarion.simulate.response import Degradation, ResponseCurve
from clarion.simulate.spend_rows import record_reports
from clarion.stores.events import EventStore
from clarion.tracking.spend import current_spend

START = date(2027, 3, 1)
SEARCH = UnitKey("search", "search-brand", "ops-managers")
SOCIAL = UnitKey("social", "social-lal", "founders")


@pytest.fixture
def day_clock() -> SimulatedClock:
    return SimulatedClock(datetime(2027, 3, 1, 0, 0, tzinfo=UTC))


def two_units(clock: SimulatedClock, seed: int = 1, **search: object) -> PaidMarket:
    curves = {
        SEARCH: ResponseCurve(top=40.0, half=500.0, shape=1.0, decay=0.3, cpm=20.0, **search),  # type: ignore[arg-type]
        SOCIAL: ResponseCurve(top=25.0, half=300.0, shape=0.8, decay=0.5, cpm=7.0),
    }
    return PaidMarket.from_curves(curves, clock=clock, seed=seed, start=START)


def run_days(market: PaidMarket, clock: SimulatedClock, days: int) -> list[dict[str, object]]:
    clock.set(datetime.combine(START + timedelta(days=days), datetime.min.time(), UTC))
    rows = []
    for offset in range(days):
        for platform in market.platforms.values():
            rows += [r.__dict__ for r in platform.report(START + timedelta(days=offset))]
    return rows


def test_a_simulated_platform_is_an_ad_platform(day_clock: SimulatedClock) -> None:
    market = two_units(day_clock)
    platform: AdPlatform = market.platforms["simulated_search"]
    assert platform.name == "simulated_search"
    assert list(platform.units()) == [SEARCH]


def test_budgets_in_reports_out_with_spend_as_budgeted(day_clock: SimulatedClock) -> None:
    market = two_units(day_clock)
    market.set_daily_budgets({SEARCH: Decimal("300"), SOCIAL: Decimal("120.50")}, START)
    market.set_daily_budgets({SEARCH: Decimal("0")}, START + timedelta(days=2))
    rows = run_days(market, day_clock, 3)
    assert [(r["unit"], r["day"], r["cost"]) for r in rows] == [
        (SEARCH, START, Decimal("300.00")),
        (SOCIAL, START, Decimal("120.50")),
        (SEARCH, START + timedelta(days=1), Decimal("300.00")),
        (SOCIAL, START + timedelta(days=1), Decimal("120.50")),
        (SOCIAL, START + timedelta(days=2), Decimal("120.50")),  # search paused: no row
    ]
    for row in rows:
        assert row["currency"] == "EUR"
        assert 0 < row["clicks"] <= row["impressions"]  # type: ignore[operator]


def test_same_seed_same_reports_in_any_order(day_clock: SimulatedClock) -> None:
    first, second = two_units(day_clock), two_units(day_clock)
    for market in (first, second):
        market.set_daily_budgets({SEARCH: Decimal(200), SOCIAL: Decimal(100)}, START)
    day_clock.set(datetime(2027, 3, 10, tzinfo=UTC))
    forward = [
        first.platforms["simulated_search"].report(START + timedelta(days=d)) for d in range(5)
    ]
    backward = [
        second.platforms["simulated_search"].report(START + timedelta(days=d))
        for d in reversed(range(5))
    ]
    assert forward == list(reversed(backward))
    other = two_units(day_clock, seed=2)
    other.set_daily_budgets({SEARCH: Decimal(200)}, START)
    assert other.platforms["simulated_search"].report(START) != forward[0]


def test_reports_only_for_finished_days_and_no_rewriting_the_past(
    day_clock: SimulatedClock,
) -> None:
    market = two_units(day_clock)
    platform = market.platforms["simulated_search"]
    platform.set_daily_budgets({SEARCH: Decimal(100)}, START)
    with pytest.raises(InvalidInput, match="not over yet"):
        platform.report(START)
    day_clock.advance(timedelta(days=2))
    platform.report(START + timedelta(days=1))
    with pytest.raises(InvalidInput, match="already reported"):
        platform.set_daily_budgets({SEARCH: Decimal(50)}, START + timedelta(days=1))
    assert platform.report(START - timedelta(days=1)) == ()


def test_bad_budgets_are_refused_naming_the_unit(day_clock: SimulatedClock) -> None:
    market = two_units(day_clock)
    platform = market.platforms["simulated_search"]
    with pytest.raises(InvalidInput) as refused:
        platform.set_daily_budgets({SEARCH: Decimal(-5), SOCIAL: Decimal(1)}, START)
    paths = {p.path for p in refused.value.problems}
    assert paths == {"budgets.search-brand", "budgets.social-lal"}
    with pytest.raises(InvalidInput):
        platform.set_daily_budgets({SEARCH: Decimal("NaN")}, START)
    with pytest.raises(InvalidInput, match="no simulated platform"):
        market.set_daily_budgets({UnitKey("video", "x"): Decimal(1)}, START)
    assert platform.budget(SEARCH, START) == 0  # nothing half-applied


def test_response_curve_rejects_impossible_parameters() -> None:
    with pytest.raises(InvalidInput) as refused:
        ResponseCurve(top=-1, half=0, shape=2.0, decay=1.0)
    assert {p.path for p in refused.value.problems} == {"top", "half", "shape", "decay"}


def test_measured_conversions_converge_to_the_truth_at_steady_state(
    day_clock: SimulatedClock,
) -> None:
    market = two_units(day_clock, seed=5)
    market.set_daily_budgets({SEARCH: Decimal(400), SOCIAL: Decimal(250)}, START)
    rows = run_days(market, day_clock, 120)
    for unit, spend in ((SEARCH, 400), (SOCIAL, 250)):
        counts = np.array([r["conversions"] for r in rows if r["unit"] == unit][20:], dtype=float)
        mean, error = counts.mean(), counts.std(ddof=1) / np.sqrt(len(counts))
        truth = market.truth.conversions(unit, spend)
        assert abs(mean - truth) < 4 * error, (unit, mean, truth, error)


def test_carry_over_keeps_converting_after_the_budget_stops(day_clock: SimulatedClock) -> None:
    market = two_units(day_clock, noise=0.0)
    market.set_daily_budgets({SEARCH: Decimal(2000)}, START)
    market.set_daily_budgets({SEARCH: Decimal("0.01")}, START + timedelta(days=10))
    rows = [r for r in run_days(market, day_clock, 13) if r["unit"] == SEARCH]
    after = [r["conversions"] for r in rows[10:]]
    assert sum(after) > 10  # yesterday's ads still convert: adstock decays by 0.3 a day
    assert after[0] > after[2]


def test_degradation_lowers_conversions_and_the_truth_knows(day_clock: SimulatedClock) -> None:
    degraded_from = START + timedelta(days=30)
    market = two_units(day_clock, seed=3, degradation=Degradation(degraded_from, 0.4))
    market.set_daily_budgets({SEARCH: Decimal(400)}, START)
    rows = [r for r in run_days(market, day_clock, 60) if r["unit"] == SEARCH]
    before = np.mean([r["conversions"] for r in rows[5:30]])
    after = np.mean([r["conversions"] for r in rows[35:]])
    assert after < 0.6 * before
    assert market.truth.marginal_cpa(SEARCH, 400, degraded_from) == pytest.approx(
        market.truth.marginal_cpa(SEARCH, 400) / 0.4
    )


def test_marginal_cpa_rises_with_spend_and_matches_the_slope() -> None:
    truth = two_units(SimulatedClock(datetime(2027, 3, 1, tzinfo=UTC))).truth
    cpas = [truth.marginal_cpa(SEARCH, spend) for spend in (10, 100, 500, 2000)]
    assert cpas == sorted(cpas)
    step = 0.01
    slope = (truth.conversions(SEARCH, 500 + step) - truth.conversions(SEARCH, 500 - step)) / (
        2 * step
    )
    assert truth.marginal_cpa(SEARCH, 500) == pytest.approx(1 / slope, rel=1e-5)


def test_oracle_split_equalises_marginal_cpa_and_beats_every_other_split() -> None:
    market = PaidMarket.generate(
        11, clock=SimulatedClock(datetime(2027, 3, 1, tzinfo=UTC)), start=START
    )
    budget = Decimal("1500.00")
    best = market.truth.oracle_split(budget)
    assert sum(best.spend.values()) == budget
    funded = [u for u, s in best.spend.items() if s > 0]
    cpas = [market.truth.marginal_cpa(u, best.spend[u]) for u in funded]
    assert max(cpas) == pytest.approx(min(cpas), rel=1e-3)
    assert best.marginal_cpa == pytest.approx(cpas[0], rel=1e-3)
    rng = np.random.default_rng(0)
    units = market.truth.units
    for _ in range(200):
        shares = rng.dirichlet(np.ones(len(units)))
        other = {u: float(budget) * share for u, share in zip(units, shares, strict=True)}
        assert market.truth.total_conversions(other) <= best.conversions + 1e-9


def test_oracle_split_respects_minimum_and_maximum() -> None:
    truth = two_units(SimulatedClock(datetime(2027, 3, 1, tzinfo=UTC))).truth
    free = truth.oracle_split(Decimal(1000))
    capped = truth.oracle_split(
        Decimal(1000), minimum={SOCIAL: Decimal(50)}, maximum={SEARCH: Decimal(300)}
    )
    assert free.spend[SEARCH] > 300
    assert capped.spend == {SEARCH: Decimal("300.00"), SOCIAL: Decimal("700.00")}
    with pytest.raises(InvalidInput, match="outside what the bounds allow"):
        truth.oracle_split(Decimal(1000), maximum={SEARCH: Decimal(100), SOCIAL: Decimal(100)})
    with pytest.raises(InvalidInput, match="unknown unit"):
        truth.oracle_split(Decimal(1000), minimum={UnitKey("video", "x"): Decimal(1)})
    with pytest.raises(InvalidInput, match="budget"):
        truth.oracle_split(Decimal(0))


@pytest.fixture
def events(tmp_path: Path, day_clock: SimulatedClock) -> Iterator[EventStore]:
    with EventStore.open(f"duckdb://{tmp_path / 'e.duckdb'}", clock=day_clock) as store:
        store.create_schema()
        yield store


def test_reports_land_in_ad_spend_marked_simulated(
    events: EventStore, day_clock: SimulatedClock
) -> None:
    market = two_units(day_clock)
    market.set_daily_budgets({SEARCH: Decimal(300), SOCIAL: Decimal(100)}, START)
    day_clock.set(datetime(2027, 3, 3, tzinfo=UTC))
    for platform in market.platforms.values():
        for _ in range(2):  # reporting a day twice replaces it, never doubles it
            written = record_reports(
                events,
                platform.report(START),
                workspace_id="ws_1",
                source=platform.name,
                clock=day_clock,
                campaign_id="cmp_1",
            )
            assert written == 1
    rows = current_spend(events, "ws_1").order_by("channel").to_pyarrow().to_pylist()
    assert [(r["source"], r["channel"], r["cost"], r["campaign_id"]) for r in rows] == [
        ("simulated_search", "search", 300.0, "cmp_1"),
        ("simulated_social", "social", 100.0, "cmp_1"),
    ]
    with pytest.raises(InvalidInput, match="simulated_"):
        record_reports(events, [], workspace_id="ws_1", source="csv:x.csv", clock=day_clock)
