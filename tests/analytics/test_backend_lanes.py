"""The same metric and funnel bodies on DuckDB, on local Spark, and as ClickHouse SQL in chDB."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pytest
from analytics_world import START, build
from backend_lanes import (
    Tables,
    chdb_runner,
    copied,
    spark_session,
    spark_tables,
    unbound_tables,
)

from clarion.analytics.funnels import FunnelStep, funnel_expression
from clarion.analytics.queries import metric_rows, run_here
from clarion.analytics.scope import scoped
from clarion.stores.events import EventStore

WS = "ws_lanes"
METRICS = [
    "sent",
    "open_rate",
    "click_rate_all",
    "hard_bounce_rate",
    "cost",
    "ctr",
    "cpa",
    "roas",
    "conversions",
    "revenue",
    "page_views",
    "sessions",
    "bounce_rate",
    "time_on_site",
    "form_conversion_rate",
    "new_leads",
    "mql_to_sql_rate",
    "win_rate",
    "pipeline_growth",
    "csat",
    "revenue_per_contact",
]
STEPS = [FunnelStep("email_open"), FunnelStep("email_click"), FunnelStep("conversion")]
Lane = tuple[str, Tables | EventStore, Callable[[Any], pa.Table]]


def _pipeline(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for p in range(40):
        at = START + timedelta(days=rng.randrange(5), hours=rng.randrange(8))
        for stage in ["lead", "mql", "sql", "opportunity", rng.choice(["customer", "lost"])]:
            props: dict[str, Any] = {"stage": stage, "amount": float(rng.randrange(100, 900))}
            rows.append(
                {
                    "event_id": f"l{p}{stage}",
                    "workspace_id": WS,
                    "type": "lifecycle_change",
                    "ts": at,
                    "contact_id": f"c{p}",
                    "channel": rng.choice(["email", "search"]),
                    "properties": json.dumps(props),
                }
            )
            at += timedelta(hours=30)
            if rng.random() < 0.3:
                break
        rows.append(
            {
                "event_id": f"s{p}",
                "workspace_id": WS,
                "type": "survey_response",
                "ts": at,
                "contact_id": f"c{p}",
                "channel": "email",
                "properties": json.dumps({"score": rng.randint(1, 5)}),
            }
        )
    return rows


@pytest.fixture(scope="module")
def duck() -> Iterator[EventStore]:
    with EventStore.open("duckdb://:memory:") as store:
        store.create_schema()
        build(store, WS, seed=8)
        store.append("events", _pipeline(8))
        yield store


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = spark_session()
    yield session
    session.stop()


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("spark", marks=pytest.mark.slow), "chdb"]
)
def lane(
    request: pytest.FixtureRequest, duck: EventStore, tmp_path_factory: pytest.TempPathFactory
) -> Lane:
    """Where the test body runs: the tables it reads and how a compiled query is executed."""
    if request.param == "duckdb":
        return "duckdb", duck, run_here
    data = copied(duck)
    if request.param == "spark":
        return "spark", spark_tables(request.getfixturevalue("spark"), data), run_here
    return "chdb", unbound_tables(), chdb_runner(tmp_path_factory.mktemp("chdb"), data)


def _sums(rows: list[Any]) -> dict[tuple[str, ...], dict[str, Any]]:
    return {tuple(r.group.values()): r.metrics for r in rows}


@pytest.mark.parametrize("by", [("channel",), ("campaign", "day"), ("persona", "variant")])
def test_the_dictionary_gives_the_same_numbers_on_every_backend(
    lane: Lane, duck: EventStore, by: tuple[str, ...]
) -> None:
    _, tables, run = lane
    expected = _sums(metric_rows(scoped(duck, WS), METRICS, by))
    found = _sums(metric_rows(scoped(tables, WS), METRICS, by, run=run))  # type: ignore[arg-type]
    assert set(found) == set(expected)
    for group, metrics in expected.items():
        for name, estimate in metrics.items():
            other = found[group][name]
            assert other.sums.n == estimate.sums.n, (group, name)
            assert other.sums.num_sum == pytest.approx(estimate.sums.num_sum), (group, name)
            assert other.sums.den_sum == pytest.approx(estimate.sums.den_sum), (group, name)
            assert other.value == pytest.approx(estimate.value), (group, name)


def test_a_funnel_counts_the_same_people_on_every_backend(lane: Lane, duck: EventStore) -> None:
    _, tables, run = lane

    def counts(source: Any, runner: Callable[[Any], pa.Table]) -> dict[int, int]:
        expression = funnel_expression(scoped(source, WS), STEPS, timedelta(days=10))
        return {int(r["step"]): int(r["reached"]) for r in runner(expression).to_pylist()}

    expected = counts(duck, run_here)
    assert expected[0] > expected[2] > 0
    assert counts(tables, run) == expected
