"""The sends API: start a step, watch it go out through the server's worker, pause, cancel."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.auth.contracts import Workspace
from clarion.content.service import ContentService
from clarion.delivery.sink import RecordingHandler
from clarion.instance import Instance

from delivery_world import add_contacts, email_campaign, smtp_for

BODY = (
    '<html><body><p>Hello {{ first_name | default("there") }},</p>'
    '<p><a href="https://shop.example.com/spring">See the offer</a></p></body></html>'
)


@pytest.fixture
def api(
    instance: Instance, secret_key: str, sink: tuple[RecordingHandler, int]
) -> Iterator[TestClient]:
    instance.settings.smtp = smtp_for(sink[1], batch_size=5, in_flight=2)
    with TestClient(create_app(instance)) as client:
        client.headers["Authorization"] = f"Bearer {secret_key}"
        yield client


def _template(instance: Instance, workspace: Workspace) -> None:
    content = ContentService(instance.store, clock=instance.clock, ids=instance.ids)
    content.add(
        workspace.id,
        "spring-hello",
        "html",
        actor="test",
        subject='Spring picks for {{ first_name | default("you") }}',
        body=BODY,
    )
    content.publish(workspace.id, "spring-hello", actor="test")


def _until(client: TestClient, send_id: str, done: Any, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        body: dict[str, Any] = client.get(f"/v1/sends/{send_id}").json()
        if done(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_a_step_started_over_the_api_is_sent_by_the_server(
    api: TestClient, instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int]
) -> None:
    handler, _ = sink
    people = [{"email": f"api{i}@example.org", "first_name": f"Api{i}"} for i in range(12)]
    add_contacts(
        instance.store,
        instance.open_events(),
        workspace.id,
        people,
        clock=instance.clock,
        ids=instance.ids,
    )
    _template(instance, workspace)
    campaign = email_campaign(instance.store, workspace.id, clock=instance.clock, ids=instance.ids)

    started = api.post(f"/v1/campaigns/{campaign.key}/sends", json={"step": "launch"})
    assert started.status_code == 201, started.text
    send_id = started.json()["id"]
    again = api.post(f"/v1/campaigns/{campaign.id}/sends", json={})
    assert again.status_code == 200 and again.json()["id"] == send_id

    final = _until(api, send_id, lambda b: b["state"] == "done")
    assert final["sent"] == 12 and final["remaining"] == 0 and final["in_doubt"] == 0
    assert len(handler.received) == 12
    subjects = {r.data.split(b"Subject: ")[1].split(b"\r\n")[0] for r in handler.received}
    assert b"Spring picks for Api0" in subjects
    assert [s["id"] for s in api.get("/v1/sends").json()] == [send_id]


def test_pause_resume_and_cancel(
    api: TestClient, instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int]
) -> None:
    people = [{"email": f"p{i}@example.org"} for i in range(30)]
    add_contacts(
        instance.store,
        instance.open_events(),
        workspace.id,
        people,
        clock=instance.clock,
        ids=instance.ids,
    )
    _template(instance, workspace)
    email_campaign(instance.store, workspace.id, clock=instance.clock, ids=instance.ids)
    send_id = api.post("/v1/campaigns/spring/sends").json()["id"]

    paused = api.post(f"/v1/sends/{send_id}/pause").json()
    assert paused["state"] == "paused"
    time.sleep(1.5)  # the batch claimed before the pause (5 rows at most) finishes
    settled = api.get(f"/v1/sends/{send_id}").json()
    time.sleep(0.5)
    assert api.get(f"/v1/sends/{send_id}").json()["sent"] == settled["sent"] <= 5  # nothing new
    assert api.post(f"/v1/sends/{send_id}/resume").json()["state"] == "running"
    cancelled = api.post(f"/v1/sends/{send_id}/cancel").json()
    assert cancelled["state"] in ("cancelled", "done")
    final = _until(api, send_id, lambda b: b["remaining"] == 0)
    assert final["sent"] + final["cancelled"] == 30


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/v1/campaigns/nope/sends", {}, 404, "not_found"),
        ("/v1/campaigns/spring/sends", {"step": "other"}, 422, "invalid_input"),
        ("/v1/campaigns/spring/sends", {"step": "launch", "evil": 1}, 422, "invalid_input"),
        ("/v1/sends/snd_nope/pause", None, 404, "not_found"),
    ],
)
def test_bad_requests_get_clear_errors(
    api: TestClient,
    instance: Instance,
    workspace: Workspace,
    path: str,
    body: Any,
    status: int,
    code: str,
) -> None:
    email_campaign(instance.store, workspace.id, clock=instance.clock, ids=instance.ids)
    answer = api.post(path, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code


def test_a_missing_template_is_refused_before_any_row_exists(
    api: TestClient, instance: Instance, workspace: Workspace
) -> None:
    email_campaign(instance.store, workspace.id, clock=instance.clock, ids=instance.ids)
    answer = api.post("/v1/campaigns/spring/sends")
    assert answer.status_code == 404 and "spring-hello" in answer.json()["error"]["message"]
    assert api.get("/v1/sends").json() == []


def test_sends_need_a_secret_key(api: TestClient) -> None:
    answer = api.get("/v1/sends", headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401
