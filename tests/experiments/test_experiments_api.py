"""/v1/experiments over real HTTP: the whole life of a test, and hostile input refused."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from clarion.auth.contracts import Workspace
from clarion.experiments import service
from clarion.instance import Instance

from experiment_world import campaign, design, outcome_rows


def test_create_start_expose_read_stop_and_roll_out(
    client: TestClient, instance: Instance, workspace: Workspace
) -> None:
    campaign(instance, workspace.id)
    created = client.post("/v1/experiments", json=design())
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "draft"
    assert client.post("/v1/experiments/subject-test/start").json()["state"] == "running"

    contacts = [f"c{i}" for i in range(2000)]
    exposed = client.post("/v1/experiments/subject-test/exposures", json={"contact_ids": contacts})
    assert exposed.status_code == 200, exposed.text
    assigned = exposed.json()["assignments"]
    experiment = service.get_experiment(instance.store, workspace.id, "subject-test")
    rows = outcome_rows(
        workspace.id,
        experiment.campaign_id,
        assigned,
        {"a": 0.1, "b": 0.2},
        event_type="email_click",
        at=instance.clock.now() + timedelta(hours=1),
    )
    instance.open_events().append("events", rows)
    instance.clock.advance(timedelta(hours=2))

    read = client.get("/v1/experiments/subject-test/results").json()
    assert read["method"] == "always_valid" and read["exposed"] == 2000
    assert read["decision"]["outcome"] == "winner"
    assert read["primary"][0]["chance_to_beat"] > 0.99
    assert client.get("/v1/experiments/subject-test/decisions").json() == {"decisions": []}

    stopped = client.post("/v1/experiments/subject-test/stop", json={"reason": "enough"})
    assert stopped.json()["winner"] == "b"
    assert stopped.json()["inputs"]["statistics"]["click_rate"]
    rolled = client.post("/v1/experiments/subject-test/rollout", json={})
    assert rolled.json()["rolled_out_variant"] == "b"
    again = client.post("/v1/experiments/subject-test/start")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "illegal_transition"


def test_a_bad_design_is_a_422_naming_each_field(
    client: TestClient, instance: Instance, workspace: Workspace
) -> None:
    bad = design(primary_metric="<img src=x onerror=alert(1)>", variants=[{"key": "a"}])
    answer = client.post("/v1/experiments", json=bad)
    assert answer.status_code == 422
    paths = {p["path"] for p in answer.json()["error"]["details"]["problems"]}
    assert paths == {"primary_metric", "variants"}


def test_unknown_experiments_are_404_and_keys_are_required(
    client: TestClient, instance: Instance
) -> None:
    assert client.get("/v1/experiments/nope/results").status_code == 404
    assert client.get("/v1/experiments' OR 1=1 --").status_code == 404
    anonymous = client.get("/v1/experiments", headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_too_many_contacts_in_one_call_are_refused(
    client: TestClient, instance: Instance, workspace: Workspace
) -> None:
    campaign(instance, workspace.id)
    client.post("/v1/experiments", json=design())
    client.post("/v1/experiments/subject-test/start")
    answer = client.post(
        "/v1/experiments/subject-test/exposures",
        json={"contact_ids": ["c"] * (service.MAX_EXPOSURES_PER_CALL + 1)},
    )
    assert answer.status_code in (413, 422)
