"""Customer value: purchase histories from conversion events, fitted with BG/NBD and Gamma-Gamma."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import numpy as np

from clarion.analytics.funnels import people_events
from clarion.analytics.scope import Scoped
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.stats.clv import Fit, fit_bgnbd, fit_gamma_gamma, lifetime_value

MIN_CUSTOMERS = 20  # fewer and the four BG/NBD parameters are not identified


@dataclass(frozen=True)
class History:
    """Per customer: repeat purchases, recency and age in periods, mean repeat-purchase value."""

    customers: list[str]
    frequency: np.ndarray
    recency: np.ndarray
    age: np.ndarray
    monetary: np.ndarray


@dataclass(frozen=True)
class CustomerValue:
    """The fitted models and the customers' expected value over the horizon."""

    bgnbd: Fit
    gamma_gamma: Fit
    customers: int
    mean_value: float  # mean discounted value over the horizon, per customer
    std_error: float  # of that mean, across customers
    total_value: float
    horizon_periods: int
    period: timedelta


def purchase_history(scope: Scoped, *, now: datetime, period: timedelta) -> History:
    """Each converting person's history as BG/NBD reads it: purchases on distinct periods.

    Purchases on the same day count once (as in the CDNOW studies); the first purchase starts
    the clock and is not a repeat; value is the mean revenue of the repeat purchase days.
    """
    events = people_events(scope, None, now)
    sales = events.filter(events.type == "conversion")
    days = sales.group_by(["person", sales.ts.date().name("day")]).aggregate(
        at=sales.ts.min(), revenue=sales.revenue.fill_null(0.0).sum()
    )
    first = days.group_by("person").aggregate(first_at=days.at.min())
    joined = days.inner_join(first, "person")
    repeat = joined.at > joined.first_at
    summary = joined.group_by("person").aggregate(
        first_at=joined.first_at.min(),
        last_at=joined.at.max(),
        repeats=repeat.sum(),
        repeat_revenue=ibis.ifelse(repeat, joined.revenue, 0.0).sum(),
    )
    rows = summary.order_by("person").to_pyarrow().to_pylist()
    unit = period.total_seconds()
    x = np.array([r["repeats"] for r in rows], dtype=np.float64)
    revenue = np.array([r["repeat_revenue"] for r in rows], dtype=np.float64)
    return History(
        customers=[r["person"] for r in rows],
        frequency=x,
        recency=np.array([(r["last_at"] - r["first_at"]).total_seconds() / unit for r in rows]),
        age=np.array([(now - r["first_at"]).total_seconds() / unit for r in rows]),
        monetary=np.divide(revenue, x, out=np.zeros_like(revenue), where=x > 0),
    )


def customer_value(
    scope: Scoped,
    *,
    now: datetime,
    period: timedelta = timedelta(days=7),
    horizon_periods: int = 52,
    discount_rate: float = 0.0,
) -> CustomerValue:
    """Fit both models on the workspace's converting people and value their next periods."""
    history = purchase_history(scope, now=now, period=period)
    repeaters = int(np.sum(history.frequency > 0))
    if len(history.customers) < MIN_CUSTOMERS or repeaters < MIN_CUSTOMERS // 2:
        problem = FieldProblem(
            "customers",
            f"{len(history.customers)} customers, {repeaters} with a repeat purchase: at least"
            f" {MIN_CUSTOMERS} and {MIN_CUSTOMERS // 2} are needed to fit the models",
        )
        raise InvalidInput(f"cannot value customers yet: {problem.problem}", [problem])
    bgnbd = fit_bgnbd(history.frequency, history.recency, history.age)
    gamma_gamma = fit_gamma_gamma(history.frequency, history.monetary)
    values = lifetime_value(
        bgnbd.params,
        gamma_gamma.params,
        (history.frequency, history.recency, history.age, history.monetary),
        periods=horizon_periods,
        period_length=1.0,
        discount_rate=discount_rate,
    )
    n = values.size
    return CustomerValue(
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        customers=n,
        mean_value=float(values.mean()),
        std_error=float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0,
        total_value=float(values.sum()),
        horizon_periods=horizon_periods,
        period=period,
    )
