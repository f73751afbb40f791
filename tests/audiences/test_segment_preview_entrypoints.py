"""Previewing a segment through the API and the CLI, on contacts created through the service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clarion.audiences import service as audiences
from clarion.auth.contracts import Workspace
from clarion.instance import Instance

PEOPLE = [
    {"email": "ana@example.com", "country": "FR", "attributes": {"plan": "pro"}},
    {"email": "bo@example.com", "country": "ES", "attributes": {"plan": "free"}},
    {"email": "cy@example.com", "country": "DE", "attributes": {"plan": "pro"}},
]
RULE = {"all": [{"field": "country", "op": "in", "value": ["FR", "DE"]}]}


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


def test_the_api_previews_a_rule(client: TestClient, people: None) -> None:
    response = client.post("/v1/segments/preview", json={"rule": RULE, "sample": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 2
    assert len(body["sample"]) == 2


def test_custom_attributes_need_their_type(client: TestClient, people: None) -> None:
    rule = {"all": [{"field": "attributes.plan", "op": "=", "value": "pro"}]}
    typed = client.post(
        "/v1/segments/preview", json={"rule": rule, "attribute_types": {"plan": "string"}}
    )
    assert typed.json()["count"] == 2
    untyped = client.post("/v1/segments/preview", json={"rule": rule})
    assert untyped.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        b'{"rule": {"all": [{"field": "country", "op": "resembles", "value": "FR"}]}}',
        b'{"rule": {"all": [{"field": "colour", "op": "=", "value": "red"}]}}',
        b'{"rule": ' + b'{"not": ' * 10_000 + b"{}" + b"}" * 10_001,
        b'{"rule": {"all": [',
    ],
)
def test_bad_rules_are_refused_with_a_path(client: TestClient, body: bytes) -> None:
    response = client.post("/v1/segments/preview", content=body)
    assert response.status_code in (400, 422), response.text
    error = response.json()["error"]
    assert error["code"] in ("invalid_input", "malformed_json")
    assert error["details"].get("problems") or error["message"]


def test_the_cli_previews_a_yaml_rule(tmp_path: Path) -> None:
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
    imported = clarion("contacts", "import", str(people))
    assert imported.returncode == 0, imported.stderr
    rule = tmp_path / "french.yaml"
    rule.write_text("all:\n  - {field: country, op: in, value: [FR]}\n")
    shown = clarion("segment", "preview", str(rule), "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["count"] == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("all:\n  - {field: country, op: resembles, value: FR}\n")
    refused = clarion("segment", "preview", str(bad))
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert "op" in refused.stderr
