"""`clarion spend import` on an initialised installation: summary, JSON, exit codes, locks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from clarion.campaigns import service as campaigns
from clarion.campaigns.files import load_plan_file
from clarion.cli.spend import spend_app
from clarion.core.clock import SimulatedClock
from clarion.core.errors import InvalidInput, StoreBusy
from clarion.core.ids import SeededIds
from clarion.instance import initialise, open_instance
from clarion.settings import Settings
from clarion.stores.events import EventStore
from clarion.tracking.spend import current_spend

from shared_paths import EXAMPLES

app = typer.Typer(help="A stand-in for the clarion command, with only its spend commands.")
app.add_typer(spend_app, name="spend")

GENERIC = """\
date,campaign,channel,cost,currency,clicks
2026-03-01,spring-launch-2027,search,120.50,EUR,10
2026-03-01,Brand DE,search,80.00,EUR,5
2026-03-02,Brand DE,search,-3,EUR,5
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, app_store_url=None, event_store_url=None)
    clock = SimulatedClock(datetime(2027, 3, 1, tzinfo=UTC))
    workspace = initialise(settings, clock=clock, ids=SeededIds(1)).workspace
    instance = open_instance(settings)
    try:
        campaigns.apply_plan(
            instance.store,
            workspace.id,
            load_plan_file(EXAMPLES / "spring-launch.yaml"),
            clock=clock,
            ids=SeededIds(2),
            actor="test",
        )
    finally:
        instance.close()
    return data


def invoke(data_dir: Path, *args: str) -> Result:
    env = {"CLARION_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    return CliRunner().invoke(app, ["spend", "import", *args], env=env)


def spend_file(tmp_path: Path, text: str = GENERIC) -> Path:
    path = tmp_path / "june.csv"
    path.write_text(text, encoding="utf-8")
    return path


def stored_campaigns(data_dir: Path) -> list[str | None]:
    with EventStore.open(f"duckdb://{(data_dir / 'events.duckdb').resolve()}") as events:
        workspace = events.table("ad_spend").workspace_id.max().execute()
        table = current_spend(events, workspace).order_by("campaign_id")
        return [row["campaign_id"] for row in table.to_pyarrow().to_pylist()]


def test_every_spend_command_and_option_has_help() -> None:
    root = typer.main.get_command(app)
    stack = [("clarion", root)]
    while stack:
        path, command = stack.pop()
        assert (command.help or "").strip(), f"{path} has no help text"
        stack.extend((f"{path} {n}", sub) for n, sub in getattr(command, "commands", {}).items())
        for param in command.params:
            if param.name != "help":
                assert (getattr(param, "help", None) or "").strip(), f"{path} {param.name}"


def test_a_clean_import_prints_a_summary(tmp_path: Path, data_dir: Path) -> None:
    result = invoke(data_dir, str(spend_file(tmp_path, GENERIC.rsplit("\n", 2)[0] + "\n")))
    assert result.exit_code == 0, result.output
    assert "Spend import" in result.stdout
    assert "2 read: 2 imported" in result.stdout
    assert "cost EUR" in result.stdout and "200.50" in result.stdout
    # The plan's key became its campaign id; the platform's own name stayed as written.
    found = stored_campaigns(data_dir)
    assert found[0] == "Brand DE" and found[1] is not None and found[1].startswith("cmp_")


def test_rejected_rows_exit_1_after_importing_the_rest(tmp_path: Path, data_dir: Path) -> None:
    path = spend_file(tmp_path)
    result = invoke(data_dir, str(path), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["rows_imported"], report["rows_rejected"]) == (2, 1)
    assert report["errors_path"] == str(path.with_name("june.csv.errors.csv"))
    assert report["cost_by_currency"] == {"EUR": "200.50"}
    assert "row 4, cost: '-3' is negative" in result.stderr


def test_a_file_of_the_wrong_shape_stops_before_any_store(tmp_path: Path, data_dir: Path) -> None:
    result = invoke(data_dir, str(spend_file(tmp_path, "a,b\n1,2\n")), "--format", "google_ads")
    assert isinstance(result.exception, InvalidInput)
    assert "google_ads" in str(result.exception)


def test_a_running_server_holding_the_event_store_is_named(tmp_path: Path, data_dir: Path) -> None:
    url = f"duckdb://{(data_dir / 'events.duckdb').resolve()}"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from clarion.stores.events import EventStore\n"
            f"store = EventStore.open({url!r})\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = invoke(data_dir, str(spend_file(tmp_path)))
        assert isinstance(result.exception, StoreBusy)
        assert f"PID {holder.pid}" in str(result.exception)
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture
def registered() -> Iterator[None]:
    probe = subprocess.run(
        [sys.executable, "-m", "clarion", "spend", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip("`clarion spend` is not registered in cli/main.py yet (the lead adds it)")
    yield


@pytest.mark.usefixtures("registered")
def test_the_clarion_command_imports_and_explains(tmp_path: Path, data_dir: Path) -> None:
    env = {**os.environ, "CLARION_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("CLARION_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-m", "clarion", "spend", "import", str(spend_file(tmp_path))],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "1 row rejected" in result.stderr and "Traceback" not in result.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "clarion", "spend", "import", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert missing.returncode == 1 and "does not exist" in missing.stderr
