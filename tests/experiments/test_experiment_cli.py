"""`clarion experiment` end to end in a subprocess, on a fresh SQLite installation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clarion.stores.events import EventStore

from shared_paths import EXAMPLES

DESIGN = EXAMPLES / "subject-line-test.yaml"


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


def test_create_start_read_stop_and_roll_out_from_the_command_line(run) -> None:
    created = run("experiment", "create", str(DESIGN))
    assert created.returncode == 0, created.stderr
    assert "contacts, read by alpha spending" in created.stdout

    assert "is now running" in run("experiment", "start", "spring-subject-lines").stdout
    results = run("experiment", "results", "spring-subject-lines", "--json")
    assert results.returncode == 0, results.stderr
    read = json.loads(results.stdout)
    assert read["decision"]["outcome"] == "inconclusive"
    assert read["method"] == "alpha_spending"

    stopped = run("experiment", "stop", "spring-subject-lines", "--reason", "campaign over")
    assert "Decision: inconclusive" in stopped.stdout

    refused = run("experiment", "rollout", "spring-subject-lines")
    assert refused.returncode == 1 and "has no winner" in refused.stderr
    rolled = run(
        "experiment", "rollout", "spring-subject-lines", "--variant", "a", "--reason", "keep it"
    )
    assert rolled.returncode == 0, rolled.stderr
    assert "rolled out A" in rolled.stdout
    listed = json.loads(run("experiment", "list", "--json").stdout)
    assert [e["state"] for e in listed] == ["rolled_out"]


def test_a_bad_design_file_is_one_sentence_per_problem(run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "key: x\nname: y\ncampaign: spring-launch-2027\nkind: content\n"
        "variants: [{key: a}]\nprimary_metric: '{{ 7*7 }}'\n"
    )
    answer = run("experiment", "create", str(bad))
    assert answer.returncode == 1
    assert "variants" in answer.stderr and "primary_metric" in answer.stderr
    assert "Traceback" not in answer.stderr
    missing = run("experiment", "create", str(tmp_path / "nope.yaml"))
    assert "no such file" in missing.stderr


def test_results_while_the_server_owns_the_event_store_name_the_server(run, tmp_path: Path) -> None:
    assert run("experiment", "create", str(DESIGN)).returncode == 0
    # This test process plays `clarion serve`: it holds the DuckDB file for writing.
    with EventStore.open(f"duckdb://{tmp_path / 'data' / 'events.duckdb'}"):
        answer = run("experiment", "results", "spring-subject-lines")
    assert answer.returncode == 1
    said = " ".join(answer.stderr.split())
    assert "`clarion serve` may be running" in said and "go through its API" in said
