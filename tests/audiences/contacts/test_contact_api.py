"""/v1/contacts over real HTTP: batch upsert, masked reads by role, consents, erasure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.api.contacts import router as contacts_router
from clarion.audiences import service as contacts
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.instance import Instance


@pytest.fixture
def api(instance: Instance, secret_key: str) -> Iterator[TestClient]:
    app = create_app(instance)
    app.include_router(contacts_router)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {secret_key}"
        yield client


def post(api: TestClient, *items: Any) -> dict[str, Any]:
    response = api.post("/v1/contacts", json={"contacts": list(items)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


JANE = {
    "email": "Jane.Doe@example.com",
    "first_name": "Jane",
    "last_name": "Doe",
    "phone": "030 1234567",
    "country": "DE",
    "consents": ["marketing:email"],
}


def test_a_batch_is_upserted_with_rejections_per_item(api: TestClient) -> None:
    body = post(api, JANE, {"email": "nope"}, {"email": "b@x.org", "shoe_size": 42})
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 0, 0)
    assert body["rejected"] == [
        {"index": 1, "field": "email", "problem": "'nope' is not an email address"},
        {
            "index": 2,
            "field": "shoe_size",
            "problem": "unknown field (put custom data in attributes)",
        },
    ]
    (stored,) = body["contacts"]
    assert stored["index"] == 0 and stored["action"] == "created"
    again = post(api, JANE)
    assert again["unchanged"] == 1 and again["contacts"][0]["id"] == stored["id"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b'{"batch": []}', 422, "invalid_input"),
        (b'{"contacts": {}}', 422, "invalid_input"),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused_whole(
    api: TestClient, body: bytes, status: int, code: str
) -> None:
    response = api.post("/v1/contacts", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_more_than_1000_contacts_are_too_many(api: TestClient) -> None:
    response = api.post("/v1/contacts", json={"contacts": [{"email": "a@x.org"}] * 1001})
    assert response.status_code == 413
    assert "at most 1000" in response.json()["error"]["message"]


def test_a_contact_is_read_masked_for_the_callers_role(api: TestClient) -> None:
    contact_id = post(api, JANE)["contacts"][0]["id"]
    full = api.get(f"/v1/contacts/{contact_id}").json()
    assert (full["role"], full["email"], full["phone"]) == (
        "admin",
        "jane.doe@example.com",
        "+49301234567",
    )
    assert full["consents"][0]["purpose"] == "marketing" and full["suppressed"] is False
    analyst = api.get(f"/v1/contacts/{contact_id}", headers={"X-Clarion-Role": "analyst"}).json()
    assert (analyst["email"], analyst["first_name"]) == ("j•••@example.com", "J.")
    viewer = api.get(f"/v1/contacts/{contact_id}", params={"role": "viewer"}).json()
    assert viewer["email"] is None and viewer["phone"] is None
    assert "email" in viewer["masked"]
    bad = api.get(f"/v1/contacts/{contact_id}", headers={"X-Clarion-Role": "root"})
    assert bad.status_code == 422 and "unknown role" in bad.json()["error"]["message"]


def test_contacts_need_a_secret_key_and_stay_in_their_workspace(
    api: TestClient, write_key: str
) -> None:
    contact_id = post(api, JANE)["contacts"][0]["id"]
    anonymous = api.get(f"/v1/contacts/{contact_id}", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    tracking = api.get(
        f"/v1/contacts/{contact_id}", headers={"Authorization": f"Bearer {write_key}"}
    )
    assert tracking.status_code == 401
    assert api.get("/v1/contacts/ct_elsewhere").status_code == 404


def test_consent_is_recorded_and_checked_at_once(
    api: TestClient, instance: Instance, workspace: Workspace, clock: SimulatedClock
) -> None:
    contact_id = post(api, JANE)["contacts"][0]["id"]
    response = api.post(
        f"/v1/contacts/{contact_id}/consents",
        json={"purpose": "marketing", "channel": "email", "status": "withdrawn"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    assert response.json()["source"].startswith("api:key_")
    decision = contacts.can_contact(
        instance.store, workspace.id, contact_id, "marketing", "email", now=clock.now()
    )
    assert decision.reason == "consent_withdrawn"
    bad = api.post(
        f"/v1/contacts/{contact_id}/consents",
        json={"purpose": "marketing", "channel": "fax", "status": "granted"},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["problems"][0]["path"] == "channel"
    future = api.post(
        f"/v1/contacts/{contact_id}/consents",
        json={
            "purpose": "marketing",
            "channel": "email",
            "status": "granted",
            "at": "2099-01-01T00:00:00Z",
        },
    )
    assert future.status_code == 422 and "future" in future.json()["error"]["message"]


def test_erasure_over_the_api(api: TestClient) -> None:
    contact_id = post(api, JANE)["contacts"][0]["id"]
    response = api.post(f"/v1/contacts/{contact_id}/erase")
    assert response.status_code == 200
    body = response.json()
    assert body["erased_at"] is not None and body["email"] is None and body["suppressed"]
    assert [s["reason"] for s in body["suppressions"]] == ["erased"]
    again = post(api, JANE)
    assert again["created"] == 0 and "erased" in again["rejected"][0]["problem"]


def test_hostile_values_come_back_as_data(api: TestClient) -> None:
    script = "<script>alert(1)</script>"
    contact_id = post(api, {"email": "h@x.org", "last_name": script})["contacts"][0]["id"]
    response = api.get(f"/v1/contacts/{contact_id}")
    assert response.headers["content-type"] == "application/json"
    assert response.json()["last_name"] == script
