"""`clarion budget` end to end in a subprocess, on a fresh SQLite installation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared_paths import EXAMPLES


@pytest.fixture
def run(tmp_path: Path):
    env = {**os.environ, "CLARION_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    env.pop("CLARION_DEBUG", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "clarion", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    assert run("init").returncode == 0
    assert run("campaign", "apply", str(EXAMPLES / "spring-launch.yaml")).returncode == 0
    return run


def test_units_recommend_apply_history_and_show(run) -> None:
    units = run("budget", "units", "spring-launch-2027", str(EXAMPLES / "budget-units.yaml"))
    assert units.returncode == 0, units.stderr
    assert "3 allocation unit(s)" in units.stdout

    recommended = run("budget", "recommend", "spring-launch-2027", "--seed", "1", "--json")
    assert recommended.returncode == 0, recommended.stderr
    body = json.loads(recommended.stdout)
    total = sum(float(v) for v in body["change"]["split"].values())
    assert total == pytest.approx(24000 / 31, abs=0.05)  # paced: the total over 31 days

    change = body["change"]["id"]
    assert run("budget", "apply", "spring-launch-2027", change).returncode == 0
    history = run("budget", "history", "spring-launch-2027", "--json")
    assert [c["status"] for c in json.loads(history.stdout)] == ["applied"]
    shown = run("budget", "show", "spring-launch-2027")
    assert "search/brand" in shown.stdout and "cpa" in shown.stdout


def test_a_bad_budget_file_names_the_field(run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("units:\n  - {channel: search, ad_set: brand, max_daily: -5}\n")

    result = run("budget", "units", "spring-launch-2027", str(bad))

    assert result.returncode != 0
    assert "max_daily" in result.stdout + result.stderr
