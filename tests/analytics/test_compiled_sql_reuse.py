"""Asking the same metrics again reuses their SQL, and still reads the rows stored since."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from clarion.analytics import queries
from clarion.analytics.queries import metric_rows
from clarion.analytics.scope import scoped
from clarion.stores.events import EventStore
from clarion.stores.events.send_facts import fold

T0 = datetime(2027, 5, 3, 9, tzinfo=UTC)


def send(n: int) -> dict[str, Any]:
    return {
        "message_id": f"m{n}",
        "workspace_id": "ws_reuse",
        "campaign_id": "cmp_1",
        "contact_id": f"c{n}",
        "channel": "email",
        "variant": "A",
        "sent_at": T0 + timedelta(days=n % 2),
        "status": "sent",
    }


def sent_by_week(store: EventStore) -> dict[str, float | None]:
    rows = metric_rows(scoped(store, "ws_reuse"), ["sent"], ["week"])
    return {row.group["week"]: row.metrics["sent"].value for row in rows}


def test_the_same_question_is_compiled_once_and_still_sees_new_rows(tmp_path: Path) -> None:
    with EventStore.open(f"duckdb://{tmp_path / 'e.duckdb'}") as store:
        store.create_schema()
        store.append("message_sends", [send(1), send(2)])
        assert sent_by_week(store) == {"2027-05-03": 2.0}  # a week is shown as its first day
        compiled = queries.duckdb_sql.cache_info()
        store.append("message_sends", [send(3)])
        assert sent_by_week(store) == {"2027-05-03": 3.0}
        again = queries.duckdb_sql.cache_info()
        assert again.hits == compiled.hits + 1
        assert again.misses == compiled.misses


def test_each_thread_asks_through_its_own_connection(tmp_path: Path) -> None:
    # The server answers from worker threads, each with its own DuckDB connection; tables
    # remembered for one thread must not end up in another thread's expression.
    with EventStore.open(f"duckdb://{tmp_path / 'e.duckdb'}") as store:
        store.create_schema()
        store.append("message_sends", [send(1), send(2)])
        fold(store)

        def sent_and_converted(_: int) -> list[tuple[float | None, float | None]]:
            rows = metric_rows(scoped(store, "ws_reuse"), ["sent", "conversions"], [])
            return [(r.metrics["sent"].value, r.metrics["conversions"].value) for r in rows]

        # The send facts (read through the thread's connection) beside the events table.
        assert sent_and_converted(0) == [(2.0, 0.0)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(sent_and_converted, range(4)))
        assert answers == [[(2.0, 0.0)]] * 4
