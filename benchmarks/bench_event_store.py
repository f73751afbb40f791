"""Event store: batched append throughput against row-at-a-time INSERT, and a count query."""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.harness import Record
from clarion.stores.events import TABLES, EventStore

NAME = "event_store"
TARGET_RATIO = 50
REFERENCE = "row-at-a-time INSERT into the same DuckDB table"
TYPES = ("page_view", "page_view", "page_view", "email_open", "click", "form_submit", "conversion")
CHANNELS = ("email", "social", "search", "web")


def make_events(count: int, seed: int = 7, prefix: str = "evt") -> list[dict[str, Any]]:
    """Synthetic events shaped like tracked traffic: mostly page views, some conversions."""
    rng = random.Random(seed)
    start = datetime(2027, 3, 1, tzinfo=UTC)
    events = []
    for n in range(count):
        kind = rng.choice(TYPES)
        events.append(
            {
                "event_id": f"{prefix}_{n}",
                "workspace_id": "ws_bench",
                "type": kind,
                "ts": start + timedelta(seconds=n * 3),
                "contact_id": f"ct_{rng.randrange(20_000)}" if rng.random() < 0.6 else None,
                "anonymous_id": f"anon_{rng.randrange(50_000)}",
                "campaign_id": "cmp_spring",
                "channel": rng.choice(CHANNELS),
                "variant": rng.choice(("a", "b")),
                "url": f"https://example.com/p/{rng.randrange(300)}",
                "utm_source": rng.choice(("linkedin", "google", "newsletter", None)),
                "revenue": round(rng.uniform(20, 400), 2) if kind == "conversion" else None,
                "currency": "EUR" if kind == "conversion" else None,
                "properties": {"session": rng.randrange(1_000_000), "scroll": rng.random()},
            }
        )
    return events


def append_batched(store: EventStore, events: Sequence[dict[str, Any]], batch_size: int) -> float:
    """Seconds to append ``events`` through EventStore.append, ``batch_size`` per call."""
    started = time.perf_counter()
    for offset in range(0, len(events), batch_size):
        store.append("events", events[offset : offset + batch_size])
    return time.perf_counter() - started


def insert_row_at_a_time(store: EventStore, events: Sequence[dict[str, Any]]) -> float:
    """Seconds to INSERT ``events`` one statement (and one commit) per row, the naive way."""
    columns = list(TABLES["events"].types)
    statement = (
        f"INSERT INTO events ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    )
    raw = store.connection.con  # the DuckDB connection under Ibis
    now = datetime.now(UTC)
    started = time.perf_counter()
    for event in events:
        row = dict(event, received_at=now, properties=json.dumps(event["properties"]))
        raw.execute(statement, [row.get(column) for column in columns])
    return time.perf_counter() - started


def count_by_type_ms(store: EventStore, repeat: int = 5) -> tuple[float, int]:
    """Best-of-``repeat`` milliseconds for events per type, and the number of events counted."""
    events = store.table("events")
    query = events.group_by("type").aggregate(n=events.count())
    best = float("inf")
    total = 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = query.to_pyarrow()
        best = min(best, time.perf_counter() - started)
        total = sum(result.column("n").to_pylist())
    return best * 1000, total


def run(quick: bool) -> list[Record]:
    batched_count, reference_count, batch_size = (
        (5_000, 300, 5_000) if quick else (200_000, 3_000, 10_000)
    )
    batched_events = make_events(batched_count)
    reference_events = make_events(reference_count, seed=8, prefix="ref")
    with tempfile.TemporaryDirectory(prefix="clarion-bench-") as directory:
        url = f"duckdb://{Path(directory) / 'events.duckdb'}"
        with EventStore.open(url) as store:
            store.create_schema()
            # Warm both paths first (lazy imports, time zone data, prepared plans) so neither
            # figure carries one-off start-up costs.
            append_batched(store, make_events(200, prefix="warm"), 200)
            insert_row_at_a_time(store, make_events(20, prefix="warm_ref"))
            batched_seconds = append_batched(store, batched_events, batch_size)
            reference_seconds = insert_row_at_a_time(store, reference_events)
            query_ms, counted = count_by_type_ms(store)

    batched_rate = batched_count / batched_seconds
    reference_rate = reference_count / reference_seconds
    ratio = batched_rate / reference_rate
    return [
        Record(
            benchmark=NAME,
            metric=f"append {batched_count:,} events, {batch_size:,} per batch",
            value=batched_rate,
            unit="events/s",
            reference=REFERENCE,
            ratio=ratio,
            target=f"≥ {TARGET_RATIO}× row-at-a-time",
            met=ratio >= TARGET_RATIO,
        ),
        Record(
            benchmark=NAME,
            metric=f"reference: INSERT {reference_count:,} events one by one",
            value=reference_rate,
            unit="events/s",
        ),
        Record(
            benchmark=NAME,
            metric=f"count by type over {counted:,} events",
            value=query_ms,
            unit="ms",
        ),
    ]
