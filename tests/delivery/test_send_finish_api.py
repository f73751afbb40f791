"""Test-then-send over the API: the server sends the test share, finish sends the rest."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.auth.contracts import Workspace
from clarion.content.service import ContentService
from clarion.delivery.sink import RecordingHandler
from clarion.experiments import service as experiments
from clarion.experiments.design import read_design
from clarion.instance import Instance

from delivery_world import add_contacts, email_campaign, smtp_for


@pytest.fixture
def api(
    instance: Instance, secret_key: str, sink: tuple[RecordingHandler, int]
) -> Iterator[TestClient]:
    instance.settings.smtp = smtp_for(sink[1], batch_size=10, in_flight=5)
    with TestClient(create_app(instance)) as client:
        client.headers["Authorization"] = f"Bearer {secret_key}"
        yield client


def _world(instance: Instance, workspace: Workspace, *, experiment: bool = True) -> None:
    clock, ids = instance.clock, instance.ids
    people = [{"email": f"t{i}@example.org", "first_name": f"T{i}"} for i in range(30)]
    add_contacts(instance.store, instance.open_events(), workspace.id, people, clock=clock, ids=ids)
    content = ContentService(instance.store, clock=clock, ids=ids)
    content.add(
        workspace.id,
        "spring-hello",
        "html",
        actor="test",
        subject="Default",
        body='<html><body><a href="https://shop.example.com/">Shop</a></body></html>',
    )
    content.publish(workspace.id, "spring-hello", actor="test")
    step: dict[str, Any] = {"key": "launch", "template": "spring-hello"}
    if experiment:
        step["experiment"] = "subjects"
    email_campaign(instance.store, workspace.id, clock=clock, ids=ids, steps=[step])
    design = {
        "key": "subjects",
        "name": "Subjects",
        "campaign": "spring",
        "kind": "subject_line",
        "variants": [
            {"key": "a", "content": {"subject": "Plain A"}},
            {"key": "b", "content": {"subject": "Bold B"}},
        ],
        "primary_metric": "click_rate",
        "test_then_send": {"test_share": 0.4, "wait_hours": 2, "fallback": "b"},
    }
    experiments.create_experiment(
        instance.store, workspace.id, read_design(design), clock=clock, ids=ids, actor="test"
    )


def _until(client: TestClient, send_id: str, done: Any, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        body: dict[str, Any] = client.get(f"/v1/sends/{send_id}").json()
        if done(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_the_server_sends_the_test_share_then_the_fallback_to_the_rest(
    api: TestClient, instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int]
) -> None:
    handler, _ = sink
    _world(instance, workspace)
    started = api.post("/v1/campaigns/spring/sends", json={"step": "launch"})
    assert started.status_code == 201, started.text
    send_id, held = started.json()["id"], started.json()["held"]
    assert 0 < held < 30

    tested = _until(api, send_id, lambda b: b["remaining"] == 0)
    assert tested["state"] == "running" and tested["sent"] == 30 - held
    assert tested["held"] == held and len(handler.received) == 30 - held

    early = api.post(f"/v1/sends/{send_id}/finish")
    assert early.status_code == 200 and early.json()["action"] == "wait"
    instance.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    finished = api.post(f"/v1/sends/{send_id}/finish")
    assert finished.status_code == 200, finished.text
    body = finished.json()
    assert (body["action"], body["variant"], body["outcome"]) == (
        "send_fallback",
        "b",
        "inconclusive",
    )
    assert body["released"] == held and body["decision_id"].startswith("dec")

    final = _until(api, send_id, lambda b: b["state"] == "done")
    assert final["sent"] == 30 and final["held"] == 0
    rest = handler.received[30 - held :]
    assert all(b"Subject: Bold B" in r.data for r in rest)
    assert api.post(f"/v1/sends/{send_id}/finish").json() == body


def test_finishing_a_plain_or_unknown_send_is_refused(
    api: TestClient, instance: Instance, workspace: Workspace
) -> None:
    _world(instance, workspace, experiment=False)
    send_id = api.post("/v1/campaigns/spring/sends", json={}).json()["id"]
    plain = api.post(f"/v1/sends/{send_id}/finish")
    assert plain.status_code == 409 and "not a test-then-send" in plain.json()["error"]["message"]
    assert api.post("/v1/sends/snd_nope/finish").status_code == 404
