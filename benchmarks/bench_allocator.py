"""Budget allocator on simulated markets: regret against the oracle split, beside baselines."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal

import numpy as np

from benchmarks.harness import Record
from clarion.core.clock import SimulatedClock
from clarion.optimize.allocator import UnitHistory, allocate
from clarion.optimize.contracts import BudgetPolicy
from clarion.simulate.paid_market import PaidMarket
from clarion.simulate.response import Degradation, ResponseCurve
from clarion.stats.budget_solver import Curves, optimal_split
from clarion.stats.response_curves import ResponsePrior

DAYS = 30
START = date(2027, 3, 1)
CHANNELS = ("search", "social", "display", "video", "native", "audio")
# The reference regrets (a comparable 5-channel, 60-day simulation).
REFERENCE = {
    "equal split": 0.189,
    "greedy lowest CPA": 0.118,
    "initial plan held fixed": 0.135,
    "Thompson sampling, daily re-optimisation": 0.082,
}
POLICY = BudgetPolicy()  # the defaults a marketer gets


@dataclass
class Market:
    """One simulated campaign: true curves (secret), a daily budget, the marketer's plan."""

    curves: list[ResponseCurve]
    daily: float
    plan: np.ndarray  # the marketer's initial split, money per day per unit
    seed: int


def _market(seed: int) -> Market:
    rng = np.random.default_rng([seed, 11])
    channels = list(rng.choice(CHANNELS, size=int(rng.integers(3, 7)), replace=False))
    audiences = ["all"] if rng.random() < 0.5 else ["ops-managers", "founders"]
    if len(channels) * len(audiences) < 3:
        audiences = ["all"]
    degrade = Degradation(START + timedelta(days=15), float(rng.uniform(0.3, 0.6)))
    market = PaidMarket.generate(
        seed,
        clock=SimulatedClock(datetime_at(START)),
        start=START,
        channels=channels,
        audiences=audiences,
        degradation=degrade,
    )
    curves = [market.truth.curve(u) for u in market.truth.units]
    # Budgets from well below to beyond the units' saturation points.
    daily = float(sum(c.half * (1 - c.decay) for c in curves) * rng.uniform(0.3, 1.5))
    plan = rng.dirichlet(np.full(len(curves), 3.0)) * daily
    return Market(curves, daily, plan, seed)


def datetime_at(day: date) -> datetime:
    """Nine in the morning of ``day``, UTC: when the simulated clock starts."""
    return datetime.combine(day, clock_time(9), tzinfo=UTC)


def _expected_conversions(market: Market, path: np.ndarray) -> float:
    """Expected conversions of a spend path (days × units) under the true curves and carry-over."""
    total = 0.0
    for i, curve in enumerate(market.curves):
        adstock = 0.0
        for t in range(DAYS):
            adstock = float(path[t, i]) + curve.decay * adstock
            total += curve.conversions_at(adstock, START + timedelta(days=t))
    return total


def _true_curves(market: Market, day: date) -> Curves:
    """The truth as Hill terms in steady daily spend (for the solver-only check and the oracle)."""
    return Curves(
        weight=np.array([[c.top * c.factor(day)] for c in market.curves]),
        half=np.array([[c.half * (1 - c.decay)] for c in market.curves]),
        shape=np.array([[c.shape] for c in market.curves]),
    )


def _observe(market: Market, path: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
    """Day ``t``'s conversions per unit as the simulated platforms deliver them (noisy)."""
    out = np.empty(len(market.curves))
    for i, curve in enumerate(market.curves):
        adstock = 0.0
        for s in range(t + 1):
            adstock = float(path[s, i]) + curve.decay * adstock
        luck = rng.lognormal(-0.5 * curve.noise**2, curve.noise)
        out[i] = rng.poisson(luck * curve.conversions_at(adstock, START + timedelta(days=t)))
    return out


def _run(market: Market, strategy: str) -> tuple[np.ndarray, float]:
    """Play one strategy through the campaign; returns the spend path and the step time."""
    units = len(market.curves)
    rng = np.random.default_rng([market.seed, 99])
    decide = np.random.default_rng([market.seed, 5])
    path = np.zeros((DAYS, units))
    results = np.zeros((DAYS, units))
    total = market.daily * DAYS
    per_unit = market.daily / units
    seconds = 0.0
    for t in range(DAYS):
        if strategy == "equal split":
            split = np.full(units, market.daily) / units
        elif strategy == "initial plan held fixed":
            split = market.plan
        elif strategy == "greedy lowest CPA":
            split = market.plan.copy() if t == 0 else path[t - 1].copy()
            if t >= 3:
                cpa = path[:t].sum(0) / np.maximum(results[:t].sum(0), 0.5)
                best = int(np.argmin(cpa))
                moved = 0.2 * split
                moved[best] = 0.0
                split = split - moved
                split[best] += moved.sum()
        else:
            started = time.perf_counter()
            histories = [
                UnitHistory(
                    path[:t, i],
                    results[:t, i],
                    ResponsePrior(reference_spend=per_unit, expected_at_reference=per_unit / 50),
                )
                for i in range(units)
            ]
            allocation = allocate(
                histories,
                np.zeros(units),
                np.full(units, market.daily),
                market.plan if t == 0 else path[t - 1],
                remaining=total - path[:t].sum(),
                days_left=DAYS - t,
                policy=POLICY,
                rng=decide,
            )
            seconds += time.perf_counter() - started
            split = allocation.split
        path[t] = split
        results[t] = _observe(market, path, t, rng)
    return path, seconds / DAYS


def _oracle_path(market: Market) -> np.ndarray:
    path = np.zeros((DAYS, len(market.curves)))
    units = len(market.curves)
    for t in range(DAYS):
        curves = _true_curves(market, START + timedelta(days=t))
        path[t] = optimal_split(curves, market.daily, np.zeros(units), np.full(units, market.daily))
    return path


def _solver_check(markets: list[Market]) -> float:
    """Worst ratio of the solver's conversions to the simulator's own exact oracle split."""
    worst = 1.0
    for market in markets:
        truth = PaidMarket.generate(
            market.seed, clock=SimulatedClock(datetime_at(START)), start=START
        ).truth
        units = list(truth.units)
        curves = [truth.curve(u) for u in units]
        as_market = Market(curves, market.daily, market.plan[: len(units)], market.seed)
        mine = optimal_split(
            _true_curves(as_market, START),
            market.daily,
            np.zeros(len(units)),
            np.full(len(units), market.daily),
        )
        achieved = truth.total_conversions(dict(zip(units, mine.tolist(), strict=True)))
        exact = truth.oracle_split(Decimal(f"{market.daily:.2f}")).conversions
        worst = min(worst, achieved / exact)
    return worst


def _step_time_100_units() -> float:
    rng = np.random.default_rng(3)
    units = 100
    histories = [
        UnitHistory(
            rng.uniform(50, 150, DAYS),
            rng.poisson(3, DAYS).astype(float),
            ResponsePrior(reference_spend=100.0, expected_at_reference=2.0),
        )
        for _ in range(units)
    ]
    times = []
    for _ in range(5):
        started = time.perf_counter()
        allocate(
            histories,
            np.zeros(units),
            np.full(units, 1000.0),
            np.full(units, 100.0),
            remaining=100_000.0,
            days_left=10,
            policy=POLICY,
            rng=rng,
        )
        times.append(time.perf_counter() - started)
    return float(np.median(times)) * 1000


HELD_OUT = 10_000  # the held-out seeds start here; the allocator was never tuned on them
BASELINES = [k for k in REFERENCE if not k.startswith("Thompson")]
MINE = "Clarion allocator"


def run(quick: bool) -> list[Record]:
    """Regret per strategy over simulated markets, the solver check, and the step time."""
    return measure(2 if quick else 200)


@dataclass
class Scores:
    """Regret of every strategy in every market of one seed set, and the markets Clarion lost."""

    regrets: dict[str, np.ndarray]
    spent_off: float
    step_seconds: list[float]
    losses: list[str]

    def beats_all(self) -> float:
        mine = self.regrets[MINE]
        best = np.min([self.regrets[s] for s in BASELINES], axis=0)
        return float(np.mean(mine < best))


def _loss(market: Market, regrets: dict[str, float], path: np.ndarray) -> str:
    """One line on a market Clarion lost: who won, the market's shape, the degrading unit."""
    winner = min(BASELINES, key=lambda s: regrets[s])
    saturation = market.daily / sum(c.half * (1 - c.decay) for c in market.curves)
    late = slice(16, DAYS)
    oracle = _oracle_path(market)
    degraded = market.curves[0].degradation
    factor = 1.0 if degraded is None else degraded.factor
    return (
        f"seed {market.seed:>5}: {winner} {regrets[winner]:.3f} vs Clarion {regrets[MINE]:.3f};"
        f" {len(market.curves)} units, budget {saturation:.2f}× saturation; degrading unit ×"
        f"{factor:.2f}, its share after day 16 {path[late, 0].sum() / path[late].sum():.2f}"
        f" (oracle {oracle[late, 0].sum() / oracle[late].sum():.2f})"
    )


def score(seeds: range) -> Scores:
    """Every strategy played on the markets of ``seeds``, scored against the oracle path."""
    strategies = [MINE, *BASELINES]
    regrets: dict[str, list[float]] = {s: [] for s in strategies}
    spent_off, step_seconds, losses = 0.0, [], []
    for seed in seeds:
        market = _market(seed)
        oracle = _expected_conversions(market, _oracle_path(market))
        paths = {}
        for strategy in strategies:
            path, step = _run(market, strategy)
            paths[strategy] = path
            regrets[strategy].append(1 - _expected_conversions(market, path) / oracle)
            total = market.daily * DAYS
            spent_off = max(spent_off, abs(path.sum() - total) / total)
            if strategy == MINE:
                step_seconds.append(step)
        these = {s: regrets[s][-1] for s in strategies}
        if these[MINE] >= min(these[s] for s in BASELINES):
            losses.append(_loss(market, these, paths[MINE]))
    arrays = {s: np.array(v) for s, v in regrets.items()}
    return Scores(arrays, spent_off, step_seconds, losses)


def _print(title: str, scores: Scores) -> None:
    print(title)
    print(f"{'strategy':44} {'median regret':>14} {'mean':>8} {'reference':>10}")
    for strategy, values in scores.regrets.items():
        ref = REFERENCE.get(strategy)
        print(
            f"{strategy:44} {np.median(values):>14.3f} {values.mean():>8.3f} "
            f"{'' if ref is None else f'{ref:.3f}':>10}"
        )
    thompson = "Thompson sampling, daily re-optimisation"
    print(f"{thompson + ' (reference only)':44} {'':>14} {'':>8} {REFERENCE[thompson]:>10.3f}")
    lost = ":" if scores.losses else ": none"
    print(f"Clarion beats every baseline in {scores.beats_all():.1%} of markets; it loses in{lost}")
    for line in scores.losses:
        print(f"  {line}")


def _records(scores: Scores, suffix: str) -> list[Record]:
    records = []
    for strategy, values in scores.regrets.items():
        ref = REFERENCE.get(strategy)
        median = float(np.median(values))
        records.append(
            Record(
                "allocator",
                f"median regret: {strategy}{suffix}",
                median,
                "share",
                reference=None if ref is None else f"issue's reference {ref:.3f}",
                ratio=None if ref is None else median / ref,
                target="≤ 0.05" if strategy == MINE else None,
                met=bool(median <= 0.05) if strategy == MINE else None,
            )
        )
    beats_all = scores.beats_all()
    records.append(
        Record(
            "allocator",
            f"share of markets where Clarion beats every baseline{suffix}",
            beats_all,
            "share",
            target="≥ 0.9",
            met=bool(beats_all >= 0.9),
        )
    )
    return records


def measure(count: int) -> list[Record]:
    """The benchmark over ``count`` tuning markets (seeds 0 to count − 1) and as many held out."""
    tuning = score(range(count))
    held_out = score(range(HELD_OUT, HELD_OUT + count))
    heading = f"simulated {DAYS}-day markets, 3–12 units, one unit degrading on day 16"
    _print(f"{count} {heading} (tuning seeds 0–{count - 1})", tuning)
    _print(f"{count} {heading} (held-out seeds {HELD_OUT}–{HELD_OUT + count - 1})", held_out)
    records = _records(tuning, "") + _records(held_out, " (held-out seeds)")
    spent_off = max(tuning.spent_off, held_out.spent_off)
    records.append(
        Record(
            "allocator",
            "largest budget spent off the total",
            float(spent_off),
            "share",
            target="≤ 0.01",
            met=bool(spent_off <= 0.01),
        )
    )
    markets = [_market(seed) for seed in range(count)]
    ratio = _solver_check(markets)
    records.append(
        Record(
            "allocator",
            "solver on true curves / simulator's exact oracle (worst)",
            ratio,
            "ratio",
            target="≥ 0.999",
            met=bool(ratio >= 0.999),
        )
    )
    step_ms = _step_time_100_units()
    records.append(
        Record(
            "allocator",
            "allocation step, 100 units, 30 days of data",
            step_ms,
            "ms",
            target="< 100 ms",
            met=bool(step_ms < 100),
        )
    )
    steps = tuning.step_seconds + held_out.step_seconds
    print(f"Clarion step time on these markets: {np.median(steps) * 1000:.1f} ms median")
    return records
