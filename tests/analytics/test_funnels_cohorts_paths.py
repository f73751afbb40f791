"""Funnels, cohorts and paths on a generated journey log equal a plain-Python computation."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from journey_log import LINKS, WS, journeys_log, people

from clarion.analytics import service
from clarion.analytics.funnels import FunnelStep
from clarion.core.errors import InvalidInput
from clarion.stores.events import EventStore


@pytest.fixture(scope="module")
def journeys() -> Iterator[tuple[EventStore, list[dict[str, Any]]]]:
    rows = journeys_log(11)
    with EventStore.open("duckdb://:memory:") as store:
        store.create_schema()
        store.append("events", rows)
        store.append(
            "identities",
            [
                {"workspace_id": WS, "anonymous_id": a, "contact_id": c, "source": "identify"}
                for a, c in LINKS.items()
            ],
        )
        store.append("events", [{**r, "workspace_id": "ws_else"} for r in rows[:50]])
        yield store, rows


def _matches(row: dict[str, Any], step: FunnelStep) -> bool:
    return row["type"] == step.type and (
        step.url_contains is None or step.url_contains in (row["url"] or "")
    )


def reference_funnel(
    rows: list[dict[str, Any]], steps: list[FunnelStep], window: timedelta
) -> list[int]:
    reached = [0] * len(steps)
    for events in people(rows).values():
        entries = [r["ts"] for r in events if _matches(r, steps[0])]
        if not entries:
            continue
        entered = at = min(entries)
        reached[0] += 1
        for index, step in enumerate(steps[1:], start=1):
            later = [
                r["ts"] for r in events if _matches(r, step) and at <= r["ts"] <= entered + window
            ]
            if not later:
                break
            at = min(later)
            reached[index] += 1
    return reached


STEPS = [
    FunnelStep("page_view", "/pricing"),
    FunnelStep("signup"),
    FunnelStep("checkout"),
    FunnelStep("conversion"),
]


@pytest.mark.parametrize("days", [1, 7, 30])
def test_a_four_step_funnel_equals_the_reference(
    journeys: tuple[EventStore, list[dict[str, Any]]], days: int
) -> None:
    store, rows = journeys
    expected = reference_funnel(rows, STEPS, timedelta(days=days))

    found = service.funnel(store, WS, STEPS, timedelta(days=days))

    assert [s.reached for s in found.steps] == expected
    assert [s.dropped for s in found.steps] == [0] + [
        a - b for a, b in itertools.pairwise(expected)
    ]
    rates = [s.rate for s in found.steps[1:]]
    assert found.bottleneck == 1 + min(range(len(rates)), key=lambda i: (rates[i], i))
    for step in found.steps[1:]:
        assert step.low is not None and step.high is not None and step.rate is not None
        assert step.low <= step.rate <= step.high


def test_a_funnel_needs_two_steps_and_a_window(
    journeys: tuple[EventStore, list[dict[str, Any]]],
) -> None:
    store, _ = journeys
    with pytest.raises(InvalidInput) as caught:
        service.funnel(store, WS, [FunnelStep("")], timedelta(0))
    paths = {p.path for p in caught.value.problems}
    assert {"steps", "steps[0].type", "window"} <= paths


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def test_retention_by_first_touch_week_equals_the_reference(
    journeys: tuple[EventStore, list[dict[str, Any]]],
) -> None:
    store, rows = journeys
    expected: dict[date, Counter[int]] = defaultdict(Counter)
    for events in people(rows).values():
        cohort = _monday(events[0]["ts"].date())
        for week in {_monday(r["ts"].date()) for r in events}:
            offset = (week - cohort).days // 7
            if offset <= 6:
                expected[cohort][offset] += 1

    found = service.retention(store, WS, weeks=6)

    assert [c.week for c in found] == sorted(expected)
    for cohort in found:
        assert cohort.size == expected[cohort.week][0]
        assert {c.offset: c.active for c in cohort.retention} == dict(expected[cohort.week])
        assert cohort.retention[0].rate == 1.0


def _collapsed(labels: list[str]) -> list[str]:
    return [x for i, x in enumerate(labels) if i == 0 or labels[i - 1] != x]


def test_paths_to_conversion_equal_the_reference(
    journeys: tuple[EventStore, list[dict[str, Any]]],
) -> None:
    store, rows = journeys
    expected: Counter[tuple[str, ...]] = Counter()
    for events in people(rows).values():
        converted = [r["ts"] for r in events if r["type"] == "conversion"]
        if not converted:
            continue
        before = [
            r["channel"] for r in events if r["type"] != "conversion" and r["ts"] <= min(converted)
        ]
        expected[tuple(_collapsed(before)[-3:]) or ("(no touch)",)] += 1

    found = service.conversion_paths(store, WS, label="channel", max_touches=3, top=1000)

    assert {p.path: p.people for p in found} == dict(expected)
    assert [p.people for p in found] == sorted((p.people for p in found), reverse=True)
    assert sum(p.share for p in found) == pytest.approx(1.0)


def test_exits_show_where_people_who_never_converted_left(
    journeys: tuple[EventStore, list[dict[str, Any]]],
) -> None:
    store, rows = journeys
    expected: Counter[tuple[str, ...]] = Counter()
    for events in people(rows).values():
        if any(r["type"] == "conversion" for r in events):
            continue
        expected[tuple(_collapsed([r["type"] for r in events])[-1:])] += 1

    found = service.exits(store, WS, label="type", max_touches=1, top=1000)

    assert {p.path: p.people for p in found} == dict(expected)


def test_a_bad_path_query_names_its_fields(
    journeys: tuple[EventStore, list[dict[str, Any]]],
) -> None:
    store, _ = journeys
    with pytest.raises(InvalidInput) as caught:
        service.conversion_paths(store, WS, label="url; DROP TABLE events", max_touches=0)  # type: ignore[arg-type]
    assert {p.path for p in caught.value.problems} == {"label", "max_touches"}
