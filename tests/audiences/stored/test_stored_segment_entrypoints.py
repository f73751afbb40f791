"""Stored segments through the HTTP API, campaign files and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clarion.audiences import service as audiences
from clarion.audiences.segments.store import get_segment, list_segments
from clarion.auth.contracts import Workspace
from clarion.campaigns import service as campaigns
from clarion.campaigns.files import load_plan_text
from clarion.core.errors import InvalidInput
from clarion.instance import Instance

PEOPLE = [
    {"email": "ana@example.com", "country": "FR"},
    {"email": "bo@example.com", "country": "ES"},
]
FRENCH = {
    "key": "french",
    "name": "In France",
    "rule": {"field": "country", "op": "=", "value": "FR"},
}


@pytest.fixture
def people(instance: Instance, workspace: Workspace) -> None:
    assert instance.events is not None
    result = audiences.upsert_contacts(
        instance.store,
        instance.events,
        workspace.id,
        PEOPLE,
        clock=instance.clock,
        ids=instance.ids,
        source="test",
    )
    assert not result.rejected


def test_the_api_creates_reads_changes_previews_and_deletes(
    client: TestClient, people: None
) -> None:
    created = client.post("/v1/segments", json=FRENCH)
    assert created.status_code == 201, created.text
    segment_id = created.json()["id"]
    assert client.post("/v1/segments", json=FRENCH).status_code == 409
    assert client.get(f"/v1/segments/{segment_id}").json()["key"] == "french"
    assert [s["key"] for s in client.get("/v1/segments").json()["segments"]] == ["french"]
    changed = client.put(
        "/v1/segments/french",
        json={"rule": {"field": "country", "op": "in", "value": ["FR", "ES"]}},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["action"], changed.json()["version"]) == ("updated", 2)
    shown = client.post("/v1/segments/french/preview", params={"role": "analyst", "sample": 5})
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["count"] == 2
    assert all(c["email"] != "ana@example.com" and "email" in c["masked"] for c in body["sample"])
    admin = client.post("/v1/segments/french/preview").json()
    assert {c["email"] for c in admin["sample"]} == {"ana@example.com", "bo@example.com"}
    assert client.delete("/v1/segments/french").status_code == 200
    assert client.get("/v1/segments/french").status_code == 404


def test_the_ad_hoc_preview_resolves_stored_segments(client: TestClient, people: None) -> None:
    assert client.post("/v1/segments", json=FRENCH).status_code == 201
    found = client.post("/v1/segments/preview", json={"rule": {"not": {"segment": "french"}}})
    assert found.status_code == 200, found.text
    assert found.json()["count"] == 1


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"key": "x", "rule": {"field": "age", "op": "contains", "value": "x"}}', "rule.field"),
        (b'{"key": "x", "rule": {"all": [{"segment": "x"}]}}', "rule.all[0].segment"),
        (
            b'{"key": "x", "rule": ' + b'{"not": ' * 10_000 + b"{}" + b"}" * 10_001 + b"}",
            "rule.not",
        ),
    ],
)
def test_the_api_refuses_bad_segments_with_a_path(
    client: TestClient, body: bytes, path: str
) -> None:
    response = client.post("/v1/segments", content=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["problems"][0]["path"].startswith(path)


def test_a_hostile_key_in_the_url_is_just_a_miss(client: TestClient) -> None:
    response = client.get("/v1/segments/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert response.status_code == 404
    assert "<script>" not in response.headers.get("content-type", "")


PLAN = """
key: spring
name: Spring
objective: Leads
start_date: 2027-03-01
end_date: 2027-03-31
budget: {total: 1000}
segments:
  - key: pricing-visitors
    rule: {did: page_view, where: {url: {op: contains, value: /pricing}}, within_days: 14}
  - key: french-visitors
    name: French pricing visitors
    rule:
      all:
        - {segment: pricing-visitors}
        - {field: country, op: "=", value: FR}
"""


def test_a_campaign_file_applies_its_segments_idempotently(
    instance: Instance, workspace: Workspace
) -> None:
    plan = load_plan_text(PLAN, "plan.yaml")
    for expected in ("created", "unchanged"):
        result = campaigns.apply_plan(
            instance.store, workspace.id, plan, clock=instance.clock, ids=instance.ids, actor="t"
        )
        assert result.action == expected
        assert [s.key for s in list_segments(instance.store, workspace.id)] == [
            "french-visitors",
            "pricing-visitors",
        ]
        assert get_segment(instance.store, workspace.id, "french-visitors").version == 1


def test_a_bad_segment_in_a_campaign_file_stores_nothing(
    instance: Instance, workspace: Workspace
) -> None:
    plan = load_plan_text(
        PLAN.replace("{segment: pricing-visitors}", "{segment: french-visitors}"), "p.yaml"
    )
    with pytest.raises(InvalidInput) as caught:
        campaigns.apply_plan(
            instance.store, workspace.id, plan, clock=instance.clock, ids=instance.ids, actor="t"
        )
    assert caught.value.problems[0].path == "segments[1].rule.all[0].segment"
    assert list_segments(instance.store, workspace.id) == []
    assert campaigns.list_campaigns(instance.store, workspace.id) == []


def test_the_cli_stores_and_previews_segments(tmp_path: Path) -> None:
    env = {**os.environ, "CLARION_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}

    def clarion(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "clarion", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert clarion("init").returncode == 0
    people = tmp_path / "people.csv"
    people.write_text("email,country\nana@example.com,FR\nbo@example.com,ES\n")
    assert clarion("contacts", "import", str(people)).returncode == 0
    definition = tmp_path / "french.yaml"
    definition.write_text("key: french\nrule: {field: country, op: in, value: [FR]}\n")
    created = clarion("segment", "create", str(definition))
    assert created.returncode == 0, created.stderr
    assert "Created segment french" in created.stdout
    assert clarion("segment", "create", str(definition)).returncode == 1
    assert "Unchanged" in clarion("segment", "apply", str(definition)).stdout
    listed = json.loads(clarion("segment", "list", "--json").stdout)
    assert [s["key"] for s in listed] == ["french"]
    assert json.loads(clarion("segment", "show", "french", "--json").stdout)["version"] == 1
    shown = clarion("segment", "preview", "french", "--json", "--role", "viewer")
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert body["count"] == 1
    assert body["sample"][0]["email"] != "ana@example.com"
    assert clarion("segment", "delete", "french").returncode == 0
    missing = clarion("segment", "show", "french")
    assert missing.returncode != 0
    assert "Traceback" not in missing.stderr
