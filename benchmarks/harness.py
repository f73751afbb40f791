"""Benchmark harness: find bench_* modules, run them, print a table, write latest.json."""

from __future__ import annotations

import argparse
import importlib
import json
import math
import pkgutil
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_RESULTS = PACKAGE_DIR / "results" / "latest.json"

BenchmarkRun = Callable[[bool], "list[Record]"]


@dataclass(frozen=True)
class Record:
    """One measured figure, optionally as a ratio against a named reference and a goal."""

    benchmark: str  # module name without the bench_ prefix, e.g. "event_store"
    metric: str  # what was measured, e.g. "append throughput"
    value: float
    unit: str  # e.g. "events/s", "ms"
    reference: str | None = None  # what ``ratio`` is against, measured in the same run
    ratio: float | None = None  # value / reference value (or reference / value for times)
    target: str | None = None  # the goal as text, e.g. "≥ 50× row-at-a-time"
    met: bool | None = None  # whether the goal was met; None when there is no goal

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Outcome:
    """What a run of the harness produced."""

    records: list[Record] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # benchmark -> traceback
    seconds: dict[str, float] = field(default_factory=dict)  # benchmark -> wall time


def discover(only: Sequence[str] = ()) -> list[tuple[str, BenchmarkRun]]:
    """The ``run`` function of every ``benchmarks/bench_*.py``, by benchmark name."""
    found = []
    for module_info in sorted(pkgutil.iter_modules([str(PACKAGE_DIR)]), key=lambda m: m.name):
        if not module_info.name.startswith("bench_"):
            continue
        name = module_info.name.removeprefix("bench_")
        if only and name not in only:
            continue
        found.append((name, _loader(module_info.name)))
    return found


def _loader(module_name: str) -> BenchmarkRun:
    # Import when run, not when found, so a module that fails to import is reported like a
    # benchmark that fails to run, and the others still run.
    def run(quick: bool) -> list[Record]:
        module = importlib.import_module(f"{__package__}.{module_name}")
        records: list[Record] = module.run(quick)
        return records

    return run


def run_benchmarks(benchmarks: Iterable[tuple[str, BenchmarkRun]], *, quick: bool) -> Outcome:
    """Run each benchmark; one that raises is recorded as a failure and the rest go on."""
    outcome = Outcome()
    for name, run in benchmarks:
        started = time.perf_counter()
        try:
            outcome.records.extend(run(quick))
        except Exception:
            outcome.failures[name] = traceback.format_exc()
        outcome.seconds[name] = time.perf_counter() - started
    return outcome


def write_results(records: Iterable[Record], path: Path) -> None:
    """Write the records as a JSON list to ``path`` (non-finite numbers become null)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{key: _finite(value) for key, value in r.as_dict().items()} for r in records]
    path.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _finite(value: object) -> object:
    # JSON has no Infinity/NaN; a ratio against a reference that took no time is unknown.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_report(outcome: Outcome, console: Console) -> None:
    """The figures as a table, then any failures with their tracebacks."""
    table = Table(title="Clarion benchmarks", title_justify="left")
    for column in ("benchmark", "metric", "value", "unit", "reference", "ratio", "target"):
        numeric = column in ("value", "ratio")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=numeric)
    table.add_column("met", justify="center", no_wrap=True)
    for record in outcome.records:
        table.add_row(
            record.benchmark,
            record.metric,
            _number(record.value),
            record.unit,
            record.reference or "",
            "" if record.ratio is None else f"{_number(record.ratio)}×",
            record.target or "",
            {True: "[green]yes[/]", False: "[red]no[/]", None: "–"}[record.met],
        )
    console.print(table)
    for name, error in outcome.failures.items():
        console.print(f"[red]benchmark {name} failed:[/]\n{error}", markup=True, highlight=False)


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks [--quick] [--only NAME] [--results PATH]``; 1 if any failed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run for CI")
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="run only this benchmark"
    )
    parser.add_argument(
        "--results", type=Path, default=DEFAULT_RESULTS, help=f"default: {DEFAULT_RESULTS}"
    )
    args = parser.parse_args(argv)

    # Piped output (CI logs) would be cut to 80 columns; the table needs more.
    console = Console(width=None if Console().is_terminal else 160)
    benchmarks = discover(args.only)
    if args.only and len(benchmarks) < len(set(args.only)):
        known = ", ".join(name for name, _ in discover())
        console.print(f"[red]unknown benchmark in --only {args.only}; known: {known}[/]")
        return 2
    outcome = run_benchmarks(benchmarks, quick=args.quick)
    print_report(outcome, console)
    write_results(outcome.records, args.results)
    console.print(f"results written to {args.results}")
    return 1 if outcome.failures else 0
