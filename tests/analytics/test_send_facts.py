"""Send facts give the same sends-with-outcomes as the raw events, however recently folded."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import pytest
from analytics_world import build

from clarion.analytics.dictionary import DEFINITIONS
from clarion.analytics.queries import metric_rows
from clarion.analytics.scope import scoped
from clarion.analytics.sources import OUTCOMES, sent_with_outcomes
from clarion.stores.events import EventStore
from clarion.stores.events.send_facts import OUTCOME_ROWS, catch_up, current, fold

WS, OTHER = "ws_facts", "ws_other"
T0 = datetime(2027, 5, 3, 9, tzinfo=UTC)
TYPES = ("email_open", "email_click", "email_bounce", "email_complaint", "unsubscribe")


def send(n: int, *, ws: str = WS, status: str = "sent", variant: str = "A") -> dict[str, Any]:
    return {
        "message_id": f"m{n}",
        "workspace_id": ws,
        "campaign_id": "cmp_1",
        "contact_id": f"c{n % 7}",
        "channel": "email",
        "variant": variant,
        "creative_id": "cr_1",
        "sent_at": T0 + timedelta(hours=n),
        "status": status,
    }


def event(key: str, n: int, kind: str, *, ws: str = WS, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": key,
        "workspace_id": ws,
        "type": kind,
        "ts": T0 + timedelta(hours=n, minutes=5),
        "message_id": f"m{n}",
        "channel": "email",
        **extra,
    }


def rows_of(table: Any) -> list[tuple[Any, ...]]:
    """The rows as sorted tuples of (message, contact, dimensions, flags)."""
    columns = ["message_id", "contact_id", "campaign_id", "variant", "creative_id", *OUTCOMES]
    data = table.select(*columns).to_pyarrow().to_pylist()
    return sorted(tuple(row[c] for c in columns) for row in data)


def assert_facts_match_events(store: EventStore) -> None:
    scope = scoped(store, WS)
    facts = current(store, WS)
    assert facts is not None
    assert rows_of(facts) == rows_of(sent_with_outcomes(scope))


def test_an_outcome_that_arrives_before_its_send_waits_for_it(tmp_path: Path) -> None:
    with EventStore.open(f"duckdb://{tmp_path / 'e.duckdb'}") as store:
        store.create_schema()
        store.append("events", [event("b1", 1, "email_bounce", properties={"bounce_type": "hard"})])
        assert current(store, WS) is None  # never folded: analytics reads the raw events
        assert fold(store).pending == 1
        store.append("message_sends", [send(1), send(2)])
        assert_facts_match_events(store)  # the send is in the tail, its bounce is pending
        assert fold(store).pending == 0
        assert_facts_match_events(store)
        [row] = [r for r in rows_of(current(store, WS)) if r[0] == "m1"]  # type: ignore[arg-type]
        assert row[5:] == (False, False, False, False, True, True, False, False, False)


def test_machine_opens_duplicates_other_workspaces_and_failed_sends_count_as_raw(
    tmp_path: Path,
) -> None:
    with EventStore.open(f"duckdb://{tmp_path / 'e.duckdb'}") as store:
        store.create_schema()
        store.append(
            "message_sends",
            [send(1), send(2), send(3, status="failed"), send(4, ws=OTHER), send(5)],
        )
        fold(store)
        store.append(
            "events",
            [
                event("o1", 1, "email_open", is_machine=True),
                event("o2", 1, "email_open", is_machine=True),
                event("c2", 2, "email_click"),
                event("o3", 3, "email_open"),  # its send failed: not counted
                event("o4", 4, "email_open"),  # its send is another workspace's
                event("x4", 4, "email_open", ws=OTHER),
                event("s5", 5, "email_bounce", properties={"bounce_type": "soft"}),
                event("u5", 5, "unsubscribe"),
                event("p5", 5, "page_view"),
                # Hostile input is data: JSON that DuckDB must still read, an id made of SQL.
                event("n2", 2, "email_bounce", properties='{"bounce_type":"hard","x":NaN}'),
                {**event("q1", 1, "email_open"), "message_id": "m1' OR '1'='1"},
            ],
        )
        assert_facts_match_events(store)  # all of it in the tail
        fold(store)
        assert_facts_match_events(store)
        assert fold(store).events == 0  # nothing new: a second fold reads nothing
        assert_facts_match_events(store)


def test_facts_survive_a_restart_and_keep_folding(tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'e.duckdb'}"
    with EventStore.open(url) as store:
        store.create_schema()
        store.append("message_sends", [send(n) for n in range(10)])
        store.append("events", [event(f"o{n}", n, "email_open") for n in range(0, 10, 2)])
        fold(store)
    with EventStore.open(url) as store:
        store.append("events", [event(f"k{n}", n, "email_click") for n in range(0, 10, 3)])
        assert_facts_match_events(store)
        assert fold(store).events == 4
        assert_facts_match_events(store)


def test_with_nothing_new_since_the_fold_a_read_is_the_facts_alone(tmp_path: Path) -> None:
    def reads_the_tail() -> bool:
        facts = current(store, WS)
        assert facts is not None
        return OUTCOME_ROWS in ibis.to_sql(facts, dialect="duckdb")

    with EventStore.open(f"duckdb://{tmp_path / 'e.duckdb'}") as store:
        store.create_schema()
        store.append("message_sends", [send(1), send(2), send(3, ws=OTHER)])
        store.append("events", [event("o1", 1, "email_open")])
        fold(store)
        assert not reads_the_tail()
        assert_facts_match_events(store)
        # Another workspace's outcomes and sends, and page views, are nothing new for this one.
        store.append("message_sends", [send(4, ws=OTHER)])
        store.append(
            "events", [event("o3", 3, "email_open", ws=OTHER), event("p1", 1, "page_view")]
        )
        assert not reads_the_tail()
        assert_facts_match_events(store)
        store.append("events", [event("c2", 2, "email_click")])  # an outcome of ours: the tail
        assert reads_the_tail()
        assert_facts_match_events(store)
        fold(store)
        store.append("message_sends", [send(5)])  # a send of ours: the tail too
        assert reads_the_tail()
        assert_facts_match_events(store)


def test_a_large_backlog_is_folded_in_short_steps(tmp_path: Path) -> None:
    with EventStore.open(f"duckdb://{tmp_path / 'e.duckdb'}") as store:
        store.create_schema()
        store.append("message_sends", [send(n) for n in range(25)])
        store.append("events", [event(f"o{n}", n, "email_open") for n in range(25)])
        first = fold(store, limit=10)
        assert (first.events, first.sends, first.behind) == (10, 10, True)
        assert_facts_match_events(store)  # a partial fold is still exact with its tail
        steps = catch_up(store, limit=10)
        assert [s.events for s in steps] == [10, 5] and not steps[-1].behind
        assert_facts_match_events(store)


def test_rows_that_vanish_under_the_mark_make_the_next_fold_start_afresh(
    tmp_path: Path,
) -> None:
    with EventStore.open(f"duckdb://{tmp_path / 'e.duckdb'}") as store:
        store.create_schema()
        store.append("message_sends", [send(n) for n in range(4)])
        store.append("events", [event(f"o{n}", n, "email_open") for n in range(4)])
        fold(store)
        # Someone deletes rows by hand: the store is append-only, so the mark cannot be trusted.
        store.connection.con.execute("DELETE FROM events WHERE event_id = 'o1'")
        assert fold(store).rebuilt
        assert_facts_match_events(store)


@pytest.mark.parametrize("seed", range(12))
def test_any_order_of_appends_and_folds_gives_the_raw_answer(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    with EventStore.open(f"duckdb://{tmp_path / 'e.duckdb'}") as store:
        store.create_schema()
        fold(store)
        sent: list[int] = list(range(60))
        rng.shuffle(sent)
        key = 0
        for _ in range(8):
            batch = [sent.pop() for _ in range(min(len(sent), rng.randint(0, 12)))]
            store.append("message_sends", [send(n, variant=rng.choice("AB")) for n in batch])
            outcomes = []
            for _ in range(rng.randint(0, 25)):
                key += 1
                kind = rng.choice(TYPES)
                extra: dict[str, Any] = {"is_machine": rng.choice([True, False, None])}
                if kind == "email_bounce":
                    extra["properties"] = json.dumps({"bounce_type": rng.choice(["hard", "soft"])})
                outcomes.append(event(f"e{key}", rng.randrange(70), kind, **extra))
            store.append("events", outcomes)
            if rng.random() < 0.5:
                fold(store, limit=rng.choice([1, 5, 1000]))  # a step may leave rows behind
            assert_facts_match_events(store)


def test_metrics_read_from_facts_equal_metrics_from_the_raw_events(tmp_path: Path) -> None:
    with EventStore.open(f"duckdb://{tmp_path / 'e.duckdb'}") as store:
        store.create_schema()
        build(store, WS, seed=3)
        names = [  # every metric that reads sends, whatever the dictionary holds today
            d.name
            for d in DEFINITIONS.values()
            if "sends" in {d.numerator.source, d.denominator and d.denominator.source}
        ]
        assert {"open_rate", "ctor", "complaint_rate"} <= set(names)
        by = ("channel", "variant", "day")
        raw = scoped(store, WS)
        assert raw.send_outcomes() is None
        expected = metric_rows(raw, names, by)
        fold(store)
        folded = scoped(store, WS)
        assert folded.send_outcomes() is not None
        found = metric_rows(folded, names, by)
        assert [(r.group, r.metrics) for r in found] == [(r.group, r.metrics) for r in expected]
