"""Six attribution models on a generated journey log equal a plain-Python computation."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from journey_log import LINKS, WS, journeys_log, people

from clarion.analytics import service
from clarion.analytics.attribution import DIRECT, MODELS, transition_counts
from clarion.analytics.scope import scoped
from clarion.core.errors import InvalidInput
from clarion.stats.markov import CONVERSION, NULL, START
from clarion.stores.events import EventStore

LOOKBACK, HALF_LIFE = timedelta(days=10), timedelta(days=2)


@pytest.fixture(scope="module")
def log() -> Iterator[tuple[EventStore, list[dict[str, Any]]]]:
    rows = journeys_log(23)
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
        yield store, rows


def _weights(n: int, ages: list[float]) -> dict[str, list[float]]:
    if n == 0:
        return {
            m: [1.0]
            for m in ("first_touch", "last_touch", "linear", "time_decay", "position_based")
        }
    decay = [0.5 ** (age / HALF_LIFE.total_seconds()) for age in ages]
    if n == 1:
        position = [1.0]
    elif n == 2:
        position = [0.5, 0.5]
    else:
        position = [0.4] + [0.2 / (n - 2)] * (n - 2) + [0.4]
    return {
        "first_touch": [1.0] + [0.0] * (n - 1),
        "last_touch": [0.0] * (n - 1) + [1.0],
        "linear": [1 / n] * n,
        "time_decay": [d / sum(decay) for d in decay],
        "position_based": position,
    }


def reference(rows: list[dict[str, Any]]) -> dict[str, dict[str, tuple[float, float]]]:
    credit: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for events in people(rows).values():
        for conversion in (r for r in events if r["type"] == "conversion"):
            at = conversion["ts"]
            touches = sorted(
                (r for r in events if r["type"] != "conversion" and at - LOOKBACK < r["ts"] <= at),
                key=lambda r: (r["ts"], r["channel"]),
            )
            labels = [r["channel"] for r in touches] or [DIRECT]
            ages = [(at - r["ts"]).total_seconds() for r in touches]
            for model, weights in _weights(len(touches), ages).items():
                for label, weight in zip(labels, weights, strict=True):
                    credit[model][label][0] += weight
                    credit[model][label][1] += weight * conversion["revenue"]
    return {m: {k: (v[0], v[1]) for k, v in c.items()} for m, c in credit.items()}


def test_rule_models_equal_the_reference(log: tuple[EventStore, list[dict[str, Any]]]) -> None:
    store, rows = log
    expected = reference(rows)

    found = service.attribute(store, WS, label="channel", lookback=LOOKBACK, half_life=HALF_LIFE)

    assert set(found.models) == set(MODELS)
    for model, credits in expected.items():
        got = {c.label: (c.conversions, c.revenue) for c in found.models[model] if c.conversions}
        want = {k: v for k, v in credits.items() if v[0]}
        assert got.keys() == want.keys(), model
        for label, (conversions, revenue) in want.items():
            assert got[label] == pytest.approx((conversions, revenue)), (model, label)
    total = sum(r["type"] == "conversion" and not r["is_machine"] for r in rows)
    assert found.conversions == total
    for model in MODELS:
        assert sum(c.conversions for c in found.models[model]) == pytest.approx(total), model


def test_markov_counts_the_moves_of_every_journey(
    log: tuple[EventStore, list[dict[str, Any]]],
) -> None:
    store, rows = log
    expected: Counter[tuple[str, str]] = Counter()
    for events in people(rows).values():
        conversions = [r["ts"] for r in events if r["type"] == "conversion"]
        end = min(conversions) if conversions else None
        labels = [
            r["channel"]
            for r in sorted(events, key=lambda r: (r["ts"], r["channel"]))
            if r["type"] != "conversion" and (end is None or end - LOOKBACK < r["ts"] <= end)
        ]
        labels = [x for i, x in enumerate(labels) if i == 0 or labels[i - 1] != x]
        if not labels:
            continue
        for source, target in zip([START, *labels[:-1]], labels, strict=True):
            expected[(source, target)] += 1
        expected[(labels[-1], CONVERSION if end else NULL)] += 1

    found = transition_counts(
        scoped(store, WS), label="channel", lookback=LOOKBACK, since=None, until=None
    )

    assert found == dict(expected)


def test_markov_credit_adds_up_to_the_conversions(
    log: tuple[EventStore, list[dict[str, Any]]],
) -> None:
    store, _ = log
    found = service.attribute(store, WS, lookback=LOOKBACK)
    markov = found.models["markov"]
    assert 0 < found.conversion_probability < 1
    assert sum(c.conversions for c in markov) == pytest.approx(found.conversions)
    assert sum(c.revenue for c in markov) == pytest.approx(found.revenue)


def test_bad_settings_name_their_fields(log: tuple[EventStore, list[dict[str, Any]]]) -> None:
    store, _ = log
    with pytest.raises(InvalidInput) as caught:
        service.attribute(
            store,
            WS,
            label="url",
            lookback=timedelta(0),
            half_life=timedelta(-1),  # type: ignore[arg-type]
        )
    assert {p.path for p in caught.value.problems} == {"label", "lookback", "half_life"}


def test_the_window_limits_the_conversions_credited(
    log: tuple[EventStore, list[dict[str, Any]]],
) -> None:
    store, rows = log
    since = datetime(2027, 3, 20, tzinfo=rows[0]["ts"].tzinfo)
    found = service.attribute(store, WS, lookback=LOOKBACK, since=since)
    expected = sum(
        r["type"] == "conversion" and not r["is_machine"] and r["ts"] >= since for r in rows
    )
    assert found.conversions == expected
