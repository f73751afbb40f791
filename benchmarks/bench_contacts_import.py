"""Contacts import: rows/s and peak memory of a streamed CSV import, beside a plain csv.reader."""

from __future__ import annotations

import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Record

NAME = "contacts_import"
ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "csv.reader reading the same file (no checks, no store)"
TARGET_RATE = 2_000  # rows/s on the embedded SQLite app store, 2 cores
TARGET_GROWTH_MB = 200  # peak RSS above what the opened stores already hold
HEADER = "email,first_name,last_name,phone,country,city,lifecycle_stage,company_size,newsletter\n"
CITIES = ("Berlin", "Hamburg", "München", "Köln", "Paris", "Lyon", "London", "Leeds")
STAGES = ("subscriber", "lead", "mql", "sql", "customer")


def write_file(path: Path, rows: int) -> None:
    """A realistic CRM export, written as it is generated (never held in memory).

    Every row has an email and a name; half have a phone (national numbers, read with the
    row's country); a few are duplicates of earlier rows or bad, as real exports are.
    """
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\ufeff" + HEADER)
        for i in range(rows):
            n = i - 7 if i % 997 == 0 and i else i  # ~0.1% repeat an earlier contact
            country = "DE" if n % 3 else "FR"
            phone = "" if n % 2 else (f"030 {1000000 + n % 8999999}" if country == "DE" else "")
            email = f"person{n}@example.com" if i % 1999 else f"person{n}-at-example.com"
            handle.write(
                f"{email},First{n},Last{n},{phone},{country},{CITIES[n % len(CITIES)]},"
                f"{STAGES[n % len(STAGES)]},{10 * (n % 50)},{'yes' if n % 4 else 'no'}\n"
            )


def child(rows: int, directory: Path) -> dict[str, Any]:
    """Runs in a fresh interpreter, so its peak RSS is the import's own."""
    from clarion.audiences import service as contacts  # noqa: PLC0415 - the child's own imports
    from clarion.audiences.reader import parse_mapping  # noqa: PLC0415
    from clarion.auth import service as auth  # noqa: PLC0415
    from clarion.core.clock import SystemClock  # noqa: PLC0415
    from clarion.core.ids import RandomIds  # noqa: PLC0415
    from clarion.stores.app import open_app_store  # noqa: PLC0415
    from clarion.stores.app.migrate import upgrade  # noqa: PLC0415
    from clarion.stores.events import EventStore  # noqa: PLC0415

    path = directory / "contacts.csv"
    write_file(path, rows)
    started = time.perf_counter()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        read = sum(1 for _ in csv.reader(handle)) - 1
    reference_seconds = time.perf_counter() - started

    store = open_app_store(f"sqlite:///{directory / 'app.db'}")
    upgrade(store)
    clock, ids = SystemClock(), RandomIds()
    workspace, _ = auth.ensure_workspace(store, "bench", "Bench", clock=clock, ids=ids)
    with EventStore.open(f"duckdb://{directory / 'events.duckdb'}", clock=clock) as events:
        events.create_schema()
        warm = directory / "warm.csv"
        write_file(warm, 50)  # first-use costs (imports, the first query) are not the point
        mapping = parse_mapping(["newsletter=consent:newsletter:email"])
        contacts.import_contacts(
            store, events, warm, workspace_id=workspace.id, clock=clock, ids=ids, mapping=mapping
        )
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        report = contacts.import_contacts(
            store,
            events,
            path,
            workspace_id=workspace.id,
            clock=clock,
            ids=ids,
            mapping=mapping,
            consents=["marketing:email"],
        )
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store.dispose()
    return {
        "rows": read,
        "file_mb": path.stat().st_size / 2**20,
        "seconds": seconds,
        "reference_seconds": reference_seconds,
        "rss_before_mb": before,
        "rss_peak_mb": peak,
        "report": report.as_dict(),
    }


def run(quick: bool) -> list[Record]:
    rows = 20_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="clarion-bench-") as directory:
        finished = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_contacts_import", str(rows), directory],
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    result = json.loads(finished.stdout)
    report = result["report"]
    assert report["rows_read"] == rows, report
    rate = rows / result["seconds"]
    reference_rate = rows / result["reference_seconds"]
    growth = result["rss_peak_mb"] - result["rss_before_mb"]
    stored = report["created"] + report["updated"] + report["unchanged"] + report["merged"]
    return [
        Record(
            benchmark=NAME,
            metric=f"import {rows:,} CSV rows ({result['file_mb']:.0f} MB) into SQLite + DuckDB",
            value=rate,
            unit="rows/s",
            reference=REFERENCE,
            ratio=rate / reference_rate,
            target=f"≥ {TARGET_RATE:,} rows/s",
            met=rate >= TARGET_RATE,
        ),
        Record(
            benchmark=NAME,
            metric=f"peak RSS growth during the import ({stored:,} stored, "
            f"{report['rejected']:,} rejected)",
            value=growth,
            unit="MB",
            target=f"{rows:,} rows streamed, peak RSS growth ≤ {TARGET_GROWTH_MB} MB",
            met=growth <= TARGET_GROWTH_MB,
        ),
        Record(
            benchmark=NAME,
            metric="peak RSS of the importing process (Python, SQLite, DuckDB, Ibis)",
            value=result["rss_peak_mb"],
            unit="MB",
        ),
        Record(
            benchmark=NAME,
            metric=f"reference: csv.reader over the same {rows:,} rows",
            value=reference_rate,
            unit="rows/s",
        ),
    ]


if __name__ == "__main__":
    print(json.dumps(child(int(sys.argv[1]), Path(sys.argv[2]))))
