"""The budget over HTTP: show, recommend with its interval, apply, history, hostile input."""

from __future__ import annotations

from budget_world import campaign
from fastapi.testclient import TestClient

from clarion.auth.contracts import Workspace
from clarion.instance import Instance


def test_show_recommend_apply_and_history(
    client: TestClient, instance: Instance, workspace: Workspace
) -> None:
    campaign(instance, workspace.id)

    shown = client.get("/v1/campaigns/budget-test/budget").json()
    assert [u["unit"] for u in shown["units"]] == [
        "display/retarget",
        "search/brand",
        "social/ops/ops-managers",
    ]
    assert shown["current"] is None

    recommended = client.post("/v1/campaigns/budget-test/budget/recommend", json={"seed": 1})
    assert recommended.status_code == 200, recommended.text
    body = recommended.json()
    assert body["frozen"] is True  # no data yet: the priors set the split, nothing moves
    expected = body["expected"]
    assert expected["low"] <= expected["results_per_day"] <= expected["high"]
    change_id = body["change"]["id"]

    applied = client.post(f"/v1/campaigns/budget-test/budget/changes/{change_id}/apply")
    assert applied.json()["status"] == "applied"
    history = client.get("/v1/campaigns/budget-test/budget/history").json()["changes"]
    assert [c["id"] for c in history] == [change_id]
    assert client.get("/v1/campaigns/budget-test/budget").json()["current"]["id"] == change_id


def test_hostile_units_and_policies_are_refused(
    client: TestClient, instance: Instance, workspace: Workspace
) -> None:
    campaign(instance, workspace.id)

    units = client.put(
        "/v1/campaigns/budget-test/budget/units",
        json={"units": [{"channel": "<script>", "ad_set": "a'; DROP TABLE x;--", "max_daily": 5}]},
    )
    policy = client.put("/v1/campaigns/budget-test/budget/policy", json={"objective": "cpa"})
    missing = client.post("/v1/campaigns/budget-test/budget/changes/bch_nope/apply")

    assert units.status_code == 422
    assert policy.status_code == 422 and "target_cpa" in policy.text
    assert missing.status_code == 404
    assert len(client.get("/v1/campaigns/budget-test/budget").json()["units"]) == 3
