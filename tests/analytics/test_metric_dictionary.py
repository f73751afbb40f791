"""Every defined metric on a generated world equals a plain-Python computation of it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from analytics_world import World, build, facts, grouped, web_facts

from clarion.analytics import service
from clarion.analytics.dictionary import DEFINITIONS, NOT_DEFINED
from clarion.core.errors import InvalidInput
from clarion.core.metrics import METRICS
from clarion.stores.events import EventStore


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[EventStore, World]]:
    with EventStore.open("duckdb://:memory:") as store:
        store.create_schema()
        build(store, "ws_other", seed=99)  # another tenant's facts must never leak in
        yield store, build(store, "ws_a", seed=1)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def reference(world: World, by: tuple[str, ...]) -> dict[tuple[str, ...], dict[str, Any]]:
    """Every defined metric by ``by``, computed from the appended rows without Ibis."""
    every = lambda row: True  # noqa: E731
    f = facts(world)
    out: dict[tuple[str, ...], dict[str, Any]] = defaultdict(dict)
    for group, rows in grouped(f["sends"], by, every).items():
        s = lambda k, rows=rows: sum(r[k] for r in rows)  # noqa: E731
        delivered = len(rows) - s("bounced")
        out[group].update(
            sent=len(rows),
            delivered=delivered,
            open_rate=_ratio(s("opened"), delivered),
            open_rate_all=_ratio(s("opened_any"), delivered),
            click_rate=_ratio(s("clicked"), delivered),
            click_rate_all=_ratio(s("clicked_any"), delivered),
            ctor=_ratio(s("clicked"), s("opened")),
            hard_bounce_rate=_ratio(s("hard"), len(rows)),
            soft_bounce_rate=_ratio(s("soft"), len(rows)),
            unsubscribe_rate=_ratio(s("unsubscribed"), delivered),
            complaint_rate=_ratio(s("complained"), delivered),
        )
    paid: dict[tuple[str, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for group, rows in grouped(f["spend"], by, every).items():
        for k in ("impressions", "reach", "clicks", "cost"):
            paid[group][k] = sum(r[k] for r in rows)
    for group, rows in grouped(f["conversions"], by, every).items():
        paid[group]["conversions"] = len(rows)
        paid[group]["revenue"] = sum(r["revenue"] for r in rows)
    for group, p in paid.items():
        values = {}
        if "impressions" in p:
            values.update(
                impressions=p["impressions"],
                reach=p["reach"],
                clicks=p["clicks"],
                cost=p["cost"],
                ctr=_ratio(p["clicks"], p["impressions"]),
                cpc=_ratio(p["cost"], p["clicks"]),
                cpm=_ratio(1000 * p["cost"], p["impressions"]),
            )
        if "conversions" in p:
            values.update(conversions=p["conversions"], revenue=p["revenue"])
        roas = _ratio(p["revenue"], p["cost"])
        values.update(
            conversion_rate=_ratio(p["conversions"], p["clicks"]),
            cpa=_ratio(p["cost"], p["conversions"]),
            roas=roas,
            roi=None if roas is None else roas - 1,
        )
        out[group].update(values)
    for group, rows in grouped(f["forms"], by, every).items():
        submits = sum(r["type"] == "form_submit" for r in rows)
        views = sum(r["type"] == "form_view" for r in rows)
        out[group]["form_conversion_rate"] = _ratio(submits, views)
    for group, rows in grouped(web_facts(world), by, every).items():
        sessions: dict[str, list[dict[str, Any]]] = defaultdict(list)
        days: dict[str, set[Any]] = defaultdict(set)
        for r in rows:
            sessions[r["session"]].append(r)
            days[r["visitor"]].add(r["day"])
        out[group].update(
            page_views=len(rows),
            sessions=len(sessions),
            unique_visitors=len(days),
            returning_visitors=sum(len(d) > 1 for d in days.values()),
            bounce_rate=sum(len(v) == 1 for v in sessions.values()) / len(sessions),
            search_engine_share=sum(any(r["search"] for r in v) for v in sessions.values())
            / len(sessions),
            referring_domains=len({r["domain"] for r in rows if r["domain"]}),
            time_on_site=sum(
                max(r["seconds"] for r in v) - min(r["seconds"] for r in v)
                for v in sessions.values()
            )
            / len(sessions),
        )
    return out


BYS = [(), ("channel", "variant"), ("campaign", "persona"), ("day",), ("week", "channel")]


@pytest.mark.parametrize("by", BYS, ids=lambda by: ",".join(by) or "total")
def test_every_metric_equals_the_plain_python_reference(
    world: tuple[EventStore, World], by: tuple[str, ...]
) -> None:
    store, w = world
    expected = reference(w, by)

    rows = service.metrics_by(store, "ws_a", list(DEFINITIONS), by)

    found = {tuple(row.group[d] for d in by): row.metrics for row in rows}
    assert set(found) == set(expected)
    checked = 0
    for group, metrics in expected.items():
        for name, value in metrics.items():
            got = found[group][name]
            if value is None:
                assert got.value is None, (group, name)
                continue
            assert got.value == pytest.approx(value, rel=1e-9, abs=1e-9), (group, name)
            assert got.low is not None and got.high is not None
            assert got.low <= got.value + 1e-9 and got.value - 1e-9 <= got.high, (group, name)
            checked += 1
    assert checked > 20 * max(len(expected), 1) // 2


def test_every_vocabulary_metric_is_defined_or_says_why_not() -> None:
    assert set(DEFINITIONS) | set(NOT_DEFINED) == set(METRICS)
    assert not set(DEFINITIONS) & set(NOT_DEFINED)


def test_machine_opens_are_excluded_and_the_figure_with_them_is_available(
    world: tuple[EventStore, World],
) -> None:
    store, _ = world
    (row,) = service.metrics_by(store, "ws_a", ["open_rate", "open_rate_all"])
    human, everything = row.metrics["open_rate"].value, row.metrics["open_rate_all"].value
    assert human is not None and everything is not None
    assert 0 < human < everything < 1


def test_a_rate_carries_a_binomial_sized_interval(world: tuple[EventStore, World]) -> None:
    store, _ = world
    (row,) = service.metrics_by(store, "ws_a", ["open_rate"])
    rate = row.metrics["open_rate"]
    assert rate.value is not None and rate.std_error is not None
    binomial = (rate.value * (1 - rate.value) / rate.sums.den_sum) ** 0.5
    assert rate.std_error == pytest.approx(binomial, rel=0.01)


def test_an_unknown_metric_or_dimension_is_refused_with_every_problem(
    world: tuple[EventStore, World],
) -> None:
    store, _ = world
    with pytest.raises(InvalidInput) as caught:
        service.metrics_by(store, "ws_a", ["ctr", "nope", "clv"], ["channel", "planet"])
    problems = [(p.path, p.problem) for p in caught.value.problems]
    assert ("metrics", problems[0][1]) == problems[0] and "unknown metric 'nope'" in problems[0][1]
    assert any("clv" in p and "customer_value" in p for _, p in problems)
    assert any(path == "by" and "planet" in p for path, p in problems)


def test_hostile_names_are_refused_not_compiled(world: tuple[EventStore, World]) -> None:
    store, _ = world
    with pytest.raises(InvalidInput):
        service.metrics_by(store, "ws_a", ["ctr"], ["channel; DROP TABLE events --"])
    with pytest.raises(InvalidInput):
        service.metrics_by(store, "ws_a", ["ctr' OR 1=1 --"])
    (row,) = service.metrics_by(store, "ws_a", ["sent"])
    assert row.metrics["sent"].value == pytest.approx(
        sum(s["status"] == "sent" for s in world[1].sends)
    )


def test_a_workspace_without_facts_gets_zero_totals_and_no_ratios(
    world: tuple[EventStore, World],
) -> None:
    store, _ = world
    (row,) = service.metrics_by(store, "ws_nobody", ["sent", "cost", "ctr", "page_views"])
    assert row.metrics["sent"].value == 0 and row.metrics["cost"].value == 0
    assert row.metrics["ctr"].value is None
    assert all(estimate.sums.n == 0 for estimate in row.metrics.values())
