"""The clarion command end to end: init, keys, campaign apply/list/show/transition, errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from shared_paths import EXAMPLES

SAMPLE = EXAMPLES / "spring-launch.yaml"


def clarion(
    data_dir: Path, *args: str, app_store_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLARION_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("CLARION_DEBUG", None)
    if app_store_url:
        env["CLARION_APP_STORE_URL"] = app_store_url
    return subprocess.run(
        [sys.executable, "-m", "clarion", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(tmp_path: Path, app_store_url: str) -> Run:
    """``clarion ARGS`` on an initialised installation (app store on SQLite or PostgreSQL)."""
    data = tmp_path / "data"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return clarion(data, *args, app_store_url=app_store_url)

    result = run("init")
    assert result.returncode == 0, result.stderr
    return run


def test_init_creates_secrets_readable_only_by_the_owner(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    first = clarion(data, "init")
    assert first.returncode == 0, first.stderr
    assert "created (mode 0600)" in first.stdout
    assert stat.S_IMODE((data / "secrets.json").stat().st_mode) == 0o600
    assert (data / "app.db").exists() and (data / "events.duckdb").exists()
    again = clarion(data, "init")
    assert "Secrets         kept" in again.stdout
    assert "up to date" in again.stdout


def test_the_campaign_commands_work_together(run: Run) -> None:
    applied = run("campaign", "apply", str(SAMPLE))
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.startswith("Created campaign spring-launch-2027")
    assert run("campaign", "apply", str(SAMPLE)).stdout.startswith("Unchanged campaign")

    listed = json.loads(run("campaign", "list", "--json").stdout)
    assert [c["key"] for c in listed] == ["spring-launch-2027"]

    shown = run("campaign", "show", "spring-launch-2027")
    assert shown.returncode == 0
    for text in ("Spring launch 2027", "cpa", "<= 40 EUR", "search", "10,500", "Book a 20-minute"):
        assert text in shown.stdout

    moved = run("campaign", "transition", "spring-launch-2027", "scheduled", "--reason", "ok")
    assert "is now scheduled" in moved.stdout
    refused = run("campaign", "transition", "spring-launch-2027", "completed")
    assert refused.returncode == 1
    assert "cannot go from scheduled to completed" in refused.stderr
    assert "Traceback" not in refused.stderr

    history = json.loads(run("campaign", "show", "spring-launch-2027", "--json").stdout)
    assert [t["to_state"] for t in history["transitions"]] == ["draft", "scheduled"]


def test_a_bad_file_is_one_clear_error_with_every_problem(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        SAMPLE.read_text().replace("total: 24000", "total: -24000").replace("mqls", "mqlz")
    )
    result = run("campaign", "apply", str(bad))
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: {bad}: invalid campaign plan")
    assert "budget.total: must not be negative" in result.stderr
    assert "kpis[1].metric: unknown KPI metric 'mqlz'" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(run("campaign", "list", "--json").stdout) == []


def test_keys_are_shown_once_and_listed_by_prefix(run: Run) -> None:
    created = run("keys", "create", "--kind", "secret")
    key = created.stdout.strip()
    assert key.startswith("clr_sk_") and len(key) > 40
    listed = json.loads(run("keys", "list", "--json").stdout)
    assert [k["prefix"] for k in listed] == [key[:12]]
    assert key not in json.dumps(listed)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("campaign", "show", "nope"), "campaign 'nope' not found"),
        (("campaign", "transition", "nope", "flying"), "Invalid value"),
        (("keys", "create", "--kind", "admin"), "Invalid value"),
    ],
)
def test_mistakes_exit_non_zero_without_a_traceback(
    run: Run, args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_commands_before_init_say_how_to_fix_it(tmp_path: Path) -> None:
    result = clarion(tmp_path / "empty", "campaign", "list")
    assert result.returncode == 1
    assert "run 'clarion init' first" in result.stderr
    assert "Traceback" not in result.stderr
