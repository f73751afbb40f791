"""A campaign's metrics through the API and the CLI: groups, targets beside actuals, pacing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from analytics_world import build
from fastapi.testclient import TestClient

from clarion.auth.contracts import Workspace
from clarion.campaigns import service as campaigns
from clarion.campaigns.plan import parse_plan
from clarion.core.clock import SimulatedClock
from clarion.instance import Instance
from clarion.stores.events import EventStore

PLAN = {
    "key": "spring",
    "name": "Spring",
    "objective": "Sell the spring range",
    "start_date": "2027-03-01",
    "end_date": "2027-03-31",
    "budget": {"total": 1000},
    "kpis": ["cpa <= 40 EUR", "open_rate >= 25%", "clicks >= 600", "mqls >= 600"],
}


@pytest.fixture
def spring(instance: Instance, workspace: Workspace, clock: SimulatedClock) -> str:
    """The campaign, its facts in the event store, and the clock ten days into it."""
    applied = campaigns.apply_plan(
        instance.store,
        workspace.id,
        parse_plan(PLAN),
        clock=clock,
        ids=instance.ids,
        actor="test",
    )
    assert instance.events is not None
    build(instance.events, workspace.id, seed=3, campaigns=(applied.campaign.id, "other", "spring"))
    clock.set(datetime(2027, 3, 11, tzinfo=UTC))
    return applied.campaign.id


def test_the_api_gives_metrics_by_channel_and_variant(client: TestClient, spring: str) -> None:
    response = client.get(
        "/v1/campaigns/spring/metrics", params={"by": "channel,variant", "metrics": "cost,sent"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["campaign"] == {"id": spring, "key": "spring"}
    groups = {(r["group"]["channel"], r["group"]["variant"]): r["metrics"] for r in body["rows"]}
    assert {("email", "A"), ("search", "(none)"), ("social", "(none)")} <= set(groups)
    assert groups[("email", "A")]["cost"]["value"] == 0
    assert groups[("search", "(none)")]["sent"]["value"] == 0
    assert groups[("email", "A")]["sent"]["n"] > 0


def test_targets_sit_beside_the_actuals_with_pacing(client: TestClient, spring: str) -> None:
    body = client.get("/v1/campaigns/spring/metrics", params={"metrics": "clicks"}).json()
    assert body["elapsed"] == pytest.approx(10 / 31)
    targets = {t["metric"]: t for t in body["targets"]}
    assert [t["target"] for t in body["targets"]] == [
        "cpa <= 40 EUR",
        "open_rate >= 25%",
        "clicks >= 600",
        "mqls >= 600",
    ]
    clicks = targets["clicks"]
    assert clicks["expected_by_now"] == pytest.approx(600 * 10 / 31)
    assert clicks["pacing"] == pytest.approx(clicks["actual"]["value"] / (600 * 10 / 31))
    assert clicks["status"] in ("on_track", "off_track", "inconclusive")
    assert targets["open_rate"]["expected_by_now"] == pytest.approx(0.25)  # a rate does not grow
    assert targets["cpa"]["actual"]["low"] <= targets["cpa"]["actual"]["value"]
    assert targets["mqls"]["status"] == "no_data"  # measured from lifecycle_change events


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"by": "planet"}, "by"),
        ({"metrics": "ctr,<script>alert(1)</script>"}, "metrics"),
        ({"metrics": "clv"}, "metrics"),
        ({"since": "yesterday"}, "since"),
    ],
)
def test_bad_requests_name_the_field(
    client: TestClient, spring: str, params: dict[str, str], field: str
) -> None:
    response = client.get("/v1/campaigns/spring/metrics", params=params)
    assert response.status_code in (400, 422), response.text
    error = response.json()["error"]
    paths = [p["path"] for p in error["details"]["problems"]]
    assert any(field in path for path in paths), error


def test_an_unknown_campaign_is_not_found(client: TestClient, spring: str) -> None:
    response = client.get("/v1/campaigns/autumn/metrics")
    assert response.status_code == 404


def test_the_cli_shows_metrics_by_channel(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "CLARION_DATA_DIR": str(data), "COLUMNS": "200"}

    def clarion(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "clarion", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    initialised = clarion("init")
    assert initialised.returncode == 0, initialised.stderr
    workspace_id = initialised.stdout.split("Workspace", 1)[1].split("(")[1].split(")")[0]
    plan = tmp_path / "spring.yaml"
    plan.write_text(json.dumps(PLAN))
    assert clarion("campaign", "apply", str(plan)).returncode == 0
    shown = json.loads(clarion("campaign", "show", "spring", "--json").stdout)
    with EventStore.open(f"duckdb://{data / 'events.duckdb'}") as events:
        build(events, workspace_id, seed=5, campaigns=(shown["id"], "other", "spring"))

    as_json = clarion("metrics", "spring", "--by", "channel", "--metric", "cost,cpa", "--json")
    assert as_json.returncode == 0, as_json.stderr
    rows = {r["group"]["channel"]: r["metrics"] for r in json.loads(as_json.stdout)["rows"]}
    assert rows["search"]["cost"]["value"] > 0
    table = clarion("metrics", "spring", "--by", "channel,variant")
    assert table.returncode == 0, table.stderr
    assert "KPI targets" in table.stdout and "cpa <= 40 EUR" in table.stdout
    refused = clarion("metrics", "spring", "--by", "planet")
    assert refused.returncode == 1
    assert "planet" in refused.stderr and "Traceback" not in refused.stderr
