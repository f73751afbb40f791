"""The benchmark harness: a quick run writes well-formed records; a broken benchmark is reported."""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORD_KEYS = {"benchmark", "metric", "value", "unit", "reference", "ratio", "target", "met"}


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # benchmarks/ is a top-level package of the repository, not part of the installed clarion.
    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("benchmarks.harness")


def test_a_quick_run_writes_a_list_of_records(tmp_path: Path) -> None:
    results = tmp_path / "latest.json"

    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--results", str(results)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    records = json.loads(results.read_text())
    assert records, "no figures at all"
    for record in records:
        assert set(record) == RECORD_KEYS, record
        assert isinstance(record["value"], int | float) and math.isfinite(record["value"])
        assert record["met"] in (True, False, None)
        if record["ratio"] is not None:
            assert record["reference"], f"a ratio needs a named reference: {record}"
    appends = [r for r in records if r["benchmark"] == "event_store" and r["ratio"] is not None]
    assert appends and appends[0]["unit"] == "events/s"
    assert "Clarion benchmarks" in finished.stdout


def test_a_failing_benchmark_is_reported_and_the_others_still_run(
    harness: ModuleType, tmp_path: Path
) -> None:
    def fine(quick: bool) -> list[object]:
        return [harness.Record("fine", "speed", 2.0, "x/s", "slow way", math.inf, "≥ 2×", True)]

    def broken(quick: bool) -> list[object]:
        raise RuntimeError("the disk is full")

    outcome = harness.run_benchmarks([("broken", broken), ("fine", fine)], quick=True)

    assert [r.benchmark for r in outcome.records] == ["fine"]
    assert "the disk is full" in outcome.failures["broken"]

    harness.write_results(outcome.records, tmp_path / "out" / "latest.json")
    (written,) = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert written["ratio"] is None  # JSON has no Infinity


def test_every_benchmark_module_is_discovered(harness: ModuleType) -> None:
    names = [name for name, _ in harness.discover()]

    assert "event_store" in names
