"""`clarion simulate`: a rehearsal in its own sandbox, truth printed next to measurement."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from clarion.cli.main import app


def test_simulate_prints_truth_next_to_measurement_and_keeps_the_sandbox(tmp_path: Path) -> None:
    keep = tmp_path / "rehearsal"
    args = ["simulate", "--contacts", "300", "--days", "2", "--seed", "4", "--json"]
    result = CliRunner().invoke(app, [*args, "--keep", str(keep)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") :])
    metrics = [row["metric"] for row in report["rates"]]
    assert "open rate a (pixel-visible)" in metrics and "session conversion rate" in metrics
    assert {unit["channel"] for unit in report["paid"]} == {"search", "social", "display"}
    assert all(unit["cost"] > 0 for unit in report["paid"])
    assert (keep / "data" / "events.duckdb").exists()
    again = CliRunner().invoke(app, [*args, "--keep", str(keep)])
    assert again.exit_code == 1 and "not empty" in again.output


def test_simulate_refuses_an_impossible_scenario_with_a_sentence() -> None:
    result = CliRunner().invoke(app, ["simulate", "--contacts", "0", "--days", "2"])
    assert result.exit_code == 1
    assert "contacts" in result.output and "Traceback" not in result.output
