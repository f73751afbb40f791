"""/v1/campaigns over real HTTP through the ASGI app, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from clarion.auth import service as auth
from clarion.auth.contracts import KeyKind
from clarion.campaigns.files import load_plan_text
from clarion.core.errors import InvalidInput
from clarion.instance import Instance

from shared_paths import EXAMPLES


def sample() -> dict[str, Any]:
    data = yaml.safe_load((EXAMPLES / "spring-launch.yaml").read_text())
    for field in ("start_date", "end_date"):
        data[field] = str(data[field])
    return data


def test_create_read_list_update_a_campaign(client: TestClient) -> None:
    created = client.post("/v1/campaigns", json=sample())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["key"] == "spring-launch-2027"
    assert body["state"] == "draft"
    assert body["allowed_transitions"] == ["cancelled", "scheduled"]
    assert body["plan"]["kpis"][0] == {
        "metric": "cpa",
        "comparator": "<=",
        "target": "40",
        "unit": "EUR",
    }

    by_id = client.get(f"/v1/campaigns/{body['id']}").json()
    by_key = client.get("/v1/campaigns/spring-launch-2027").json()
    assert by_id == by_key

    listed = client.get("/v1/campaigns").json()["campaigns"]
    assert [c["id"] for c in listed] == [body["id"]]

    changed = sample() | {"name": "Spring launch, v2"}
    updated = client.put("/v1/campaigns/spring-launch-2027", json=changed)
    assert updated.status_code == 200
    assert (updated.json()["revision"], updated.json()["plan"]["name"]) == (2, "Spring launch, v2")


def test_apply_is_idempotent(client: TestClient) -> None:
    first = client.post("/v1/campaigns/apply", json=sample())
    second = client.post("/v1/campaigns/apply", json=sample())
    assert (first.status_code, first.json()["action"]) == (201, "created")
    assert (second.status_code, second.json()["action"]) == (200, "unchanged")


def test_transitions_follow_the_lifecycle(client: TestClient) -> None:
    client.post("/v1/campaigns", json=sample())
    url = "/v1/campaigns/spring-launch-2027/transitions"
    assert client.post(url, json={"to": "scheduled"}).json()["state"] == "scheduled"
    assert client.post(url, json={"to": "running", "reason": "go"}).json()["state"] == "running"
    refused = client.post(url, json={"to": "draft"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "illegal_transition"
    assert refused.json()["error"]["details"]["allowed"] == ["cancelled", "completed", "paused"]
    history = client.get(url).json()
    assert [h["to_state"] for h in history] == ["draft", "scheduled", "running"]
    assert history[-1]["reason"] == "go"
    assert history[-1]["actor"].startswith("api-key:key_")


BAD_PLANS = [
    ({"budgett": 1}, "budgett", "unknown field"),
    ({"budget": {"total": -5, "split": {}}}, "budget.total", "must not be negative"),
    (
        {"budget": {"total": 100, "split": {"email": 10, "search": 20}}},
        "budget.split",
        "sum to 30, not the budget total 100",
    ),
    ({"end_date": "2027-01-01"}, "end_date", "before its start"),
    ({"kpis": ["cac <= 3 EUR"]}, "kpis[0].metric", "unknown KPI metric 'cac'"),
]


@pytest.mark.parametrize(("change", "path", "problem"), BAD_PLANS)
def test_bad_plans_get_422_with_the_same_details_as_files(
    client: TestClient, change: dict[str, Any], path: str, problem: str
) -> None:
    data = sample() | change
    response = client.post("/v1/campaigns", json=data)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert any(
        p["path"] == path and problem in p["problem"] for p in error["details"]["problems"]
    ), error
    with pytest.raises(InvalidInput) as from_file:
        load_plan_text(yaml.safe_dump(data), "plan.yaml")
    file_problems = [p.as_dict() for p in from_file.value.problems]
    assert file_problems == error["details"]["problems"]
    assert client.get("/v1/campaigns").json()["campaigns"] == []


def test_errors_share_one_shape(client: TestClient) -> None:
    missing = client.get("/v1/campaigns/nope")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "code": "not_found",
            "message": "campaign 'nope' not found",
            "details": {"kind": "campaign", "ref": "nope"},
        }
    }
    assert client.get("/v1/nowhere").json()["error"]["code"] == "not_found"
    malformed = client.post(
        "/v1/campaigns", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert malformed.json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer clr_sk_wrong",
        "Basic dXNlcjpwYXNz",
        "Bearer ' OR 1=1 --",
        "Bearer " + "x" * 5000,
    ],
)
def test_requests_without_a_valid_secret_key_are_refused(
    client: TestClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    client.headers.pop("Authorization")
    response = client.get("/v1/campaigns", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_write_key_cannot_manage_campaigns(client: TestClient, instance: Instance) -> None:
    write = auth.create_key(
        instance.store,
        instance.workspace().id,
        KeyKind.WRITE,
        pepper=instance.pepper,
        clock=instance.clock,
        ids=instance.ids,
    )
    response = client.get("/v1/campaigns", headers={"Authorization": f"Bearer {write.plaintext}"})
    assert response.status_code == 401


def test_a_revoked_key_stops_working_at_once(client: TestClient, instance: Instance) -> None:
    assert client.get("/v1/campaigns").status_code == 200
    for key in auth.list_keys(instance.store, instance.workspace().id):
        auth.revoke_key(instance.store, key.workspace_id, key.id, clock=instance.clock)
    response = client.get("/v1/campaigns")
    assert (response.status_code, response.json()["error"]["message"]) == (
        401,
        "this API key was revoked",
    )


def test_a_huge_body_is_refused_before_parsing(client: TestClient) -> None:
    response = client.post(
        "/v1/campaigns",
        content=b'{"name": "' + b"x" * 2_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_openapi_describes_the_campaign_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/v1/campaigns", "/v1/campaigns/{ref}", "/v1/campaigns/{ref}/transitions"} <= set(
        spec["paths"]
    )
    assert any(name.startswith("CampaignPlan") for name in spec["components"]["schemas"])
    assert client.get("/healthz").json()["status"] == "ok"
