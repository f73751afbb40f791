"""A 200k-row spend file streams through the importer in bounded memory, at a useful rate."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from clarion.core.clock import SimulatedClock
from clarion.stores.events import EventStore
from clarion.tracking.spend import current_spend, import_spend

ROWS = 200_000
PEAK_LIMIT = 50 * 1024 * 1024  # bytes of Python allocations at the peak of the import


def write_big_file(path: Path, rows: int) -> None:
    first = date(2026, 1, 1)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("date,campaign,channel,ad_set,impressions,clicks,cost,currency\n")
        handle.writelines(
            f"{first + timedelta(days=i % 365)},campaign-{i % 40},search,set-{i},"
            f"{1000 + i},{i % 97},{i % 1000}.{i % 100:02d},EUR\n"
            for i in range(rows)
        )


def test_a_200k_row_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    write_big_file(path, ROWS)
    assert path.stat().st_size > 12_000_000  # the file alone is larger than a batch's worth
    clock = SimulatedClock(datetime(2027, 4, 1, tzinfo=UTC))
    with EventStore.open(f"duckdb://{tmp_path / 'e.duckdb'}", clock=clock) as events:
        events.create_schema()
        # One small import first: what the first query loads once (Ibis, sqlglot) is not what
        # this test is about; what grows with the file is.
        write_big_file(tmp_path / "small.csv", 10)
        import_spend(events, tmp_path / "small.csv", workspace_id="ws_0", clock=clock)
        tracemalloc.start()
        try:
            started = time.perf_counter()
            report = import_spend(events, path, workspace_id="ws_1", clock=clock)
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert (report.rows_imported, report.rows_rejected) == (ROWS, 0)
        assert report.days == 365
        assert int(current_spend(events, "ws_1").count().execute()) == ROWS
    # Reported with -s; under tracemalloc the rate is about a third of the real one.
    print(f"\n{ROWS} rows in {elapsed:.1f} s traced, peak {peak / 2**20:.1f} MiB")
    assert peak < PEAK_LIMIT
