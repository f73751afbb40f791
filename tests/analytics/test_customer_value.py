"""Customer value from conversion events: histories as BG/NBD reads them, then both fits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from clarion.analytics import service
from clarion.analytics.scope import scoped
from clarion.analytics.value import purchase_history
from clarion.core.errors import InvalidInput
from clarion.stores.events import EventStore

WS = "ws_value"
START = datetime(2027, 1, 4, 12, tzinfo=UTC)
NOW = START + timedelta(weeks=40)


def _conversions(seed: int, customers: int) -> list[dict[str, Any]]:
    """Purchases of simulated customers (rate ~ Gamma, drop-out ~ Beta), as conversion events;
    two purchases on one day count as one purchase day. Each customer spends on their own scale
    (Gamma-Gamma's story): with one scale for all, the model's best fit lies at q, v → ∞ and
    whether the optimiser reports convergence there depends on the last bits of the sums."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(customers):
        rate, dropout = rng.gamma(0.6, 1 / 4.0), rng.beta(1.0, 3.0)
        spend_rate = rng.gamma(4.0, 1 / 24.0)  # ν: the customer's mean spend is 5 / ν
        at = float(rng.uniform(0, 20))  # first purchase in the first 20 weeks
        while at <= 40:
            ts = START + timedelta(weeks=at)
            for extra in range(1 + int(rng.random() < 0.1)):
                rows.append(
                    {
                        "event_id": f"v{c}_{len(rows)}_{extra}",
                        "workspace_id": WS,
                        "type": "conversion",
                        "ts": ts + timedelta(minutes=extra),
                        "contact_id": f"c{c}",
                        "revenue": round(float(rng.gamma(5.0, 1 / spend_rate)), 2),
                    }
                )
            if rng.random() < dropout:
                break
            at += float(rng.exponential(1 / rate)) + 1 / 7  # at least a day apart
    return rows


@pytest.fixture(scope="module")
def store() -> Iterator[tuple[EventStore, list[dict[str, Any]]]]:
    rows = _conversions(5, 400)
    with EventStore.open("duckdb://:memory:") as events:
        events.create_schema()
        events.append("events", rows)
        yield events, rows


def test_histories_count_purchase_days_after_the_first(
    store: tuple[EventStore, list[dict[str, Any]]],
) -> None:
    events, rows = store
    days: dict[str, dict[Any, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        days[r["contact_id"]][r["ts"].date()].append(r)

    found = purchase_history(scoped(events, WS), now=NOW, period=timedelta(weeks=1))

    assert sorted(found.customers) == sorted(days)
    for i, person in enumerate(found.customers):
        purchases = sorted(days[person].items())
        first = min(r["ts"] for r in purchases[0][1])
        last = min(r["ts"] for r in purchases[-1][1])
        repeats = purchases[1:]
        assert found.frequency[i] == len(repeats)
        assert found.recency[i] == pytest.approx((last - first) / timedelta(weeks=1))
        assert found.age[i] == pytest.approx((NOW - first) / timedelta(weeks=1))
        value = (
            sum(r["revenue"] for _, day in repeats for r in day) / len(repeats) if repeats else 0
        )
        assert found.monetary[i] == pytest.approx(value)


def test_customer_value_fits_both_models_with_errors(
    store: tuple[EventStore, list[dict[str, Any]]],
) -> None:
    events, _ = store
    value = service.customer_value(events, WS, now=NOW, horizon_periods=26)

    assert value.customers == 400
    assert value.bgnbd.converged and value.gamma_gamma.converged
    truth = {"p": 5.0, "q": 4.0, "v": 24.0}  # the spend story of _conversions
    for name, true in truth.items():
        fitted, error = value.gamma_gamma.params[name], value.gamma_gamma.std_errors[name]
        assert abs(fitted - true) < 3 * error, (name, fitted, error)
    assert all(np.isfinite(list(value.bgnbd.std_errors.values())))
    assert value.mean_value > 0 and 0 < value.std_error < value.mean_value
    assert value.total_value == pytest.approx(value.mean_value * 400)
    longer = service.customer_value(events, WS, now=NOW, horizon_periods=52)
    assert longer.mean_value > value.mean_value


def test_too_few_customers_is_a_clear_refusal(
    store: tuple[EventStore, list[dict[str, Any]]],
) -> None:
    events, _ = store
    with pytest.raises(InvalidInput, match="at least 20"):
        service.customer_value(events, "ws_empty", now=NOW)
