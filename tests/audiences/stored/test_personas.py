"""Personas: structured fields checked with paths, linked to segments, used by rules."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from clarion.audiences import service as audiences
from clarion.audiences.campaign_files import apply_audience_file
from clarion.audiences.persona_store import delete_persona, get_persona, list_personas
from clarion.audiences.personas import parse_persona
from clarion.audiences.segments.snapshot import segment_members
from clarion.audiences.segments.store import list_segments, save_segment
from clarion.audiences.segments.stored import segment_input
from clarion.auth.contracts import Workspace
from clarion.campaigns import service as campaigns
from clarion.campaigns.files import load_plan_text
from clarion.core.errors import Conflict, InvalidInput
from clarion.instance import Instance

EXAMPLE = Path(__file__).parents[3] / "examples" / "personas.yaml"


def example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    return data


def apply(instance: Instance, workspace: Workspace, data: Any) -> Any:
    return apply_audience_file(
        instance.store, workspace.id, data, clock=instance.clock, ids=instance.ids
    )


def test_the_example_file_applies_idempotently(instance: Instance, workspace: Workspace) -> None:
    first = apply(instance, workspace, example())
    assert [c.action for c in first.personas + first.segments] == ["created", "created"]
    again = apply(instance, workspace, example())
    assert [c.action for c in again.personas + again.segments] == ["unchanged", "unchanged"]
    stored = get_persona(instance.store, workspace.id, "ops-manager").persona
    assert stored.demographics.age is not None and stored.demographics.age.max == 50
    assert stored.channels == ["email", "search", "social"]
    assert stored.content == ["case-studies/logistics-2026", "webinars/ops-automation"]
    assert stored.journey[1].stage == "consideration"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda p: p["demographics"].update(age={"min": 60, "max": 30}), "demographics.age"),
        (lambda p: p["demographics"].update(age={"min": "x", "max": 30}), "demographics.age.min"),
        (lambda p: p.update(channels=["email", "carrier pigeon"]), "channels[1]"),
        (
            lambda p: p["content_preferences"].update(tone=["sarcastic"]),
            "content_preferences.tone[0]",
        ),
        (lambda p: p["demographics"].update(regions=["France"]), "demographics.regions[0]"),
        (lambda p: p.update(colour="red"), "colour"),
        (lambda p: p.update(key="Ops Manager"), "key"),
        (lambda p: p.update(journey=[{"stage": "decision"}, {"stage": "awareness"}]), "journey"),
        (lambda p: p.update(content=["<script>"]), "content[0]"),
    ],
)
def test_bad_persona_fields_are_refused_with_a_path(change: Any, path: str) -> None:
    persona = copy.deepcopy(example()["personas"][0])
    change(persona)
    with pytest.raises(InvalidInput) as caught:
        parse_persona(persona, root="personas[0]")
    assert caught.value.problems[0].path == f"personas[0].{path}".rstrip(".")


def test_html_in_a_text_field_is_just_text() -> None:
    persona = parse_persona({"key": "p", "label": "<b>Ops</b>", "goals": ["'); DROP TABLE x;--"]})
    assert persona.label == "<b>Ops</b>"


def test_a_persona_rule_finds_assigned_contacts_and_segment_members(
    instance: Instance, workspace: Workspace
) -> None:
    assert instance.events is not None
    result = audiences.upsert_contacts(
        instance.store,
        instance.events,
        workspace.id,
        [
            {"email": "a@example.com", "persona": "ops-manager"},
            {"email": "b@example.com", "attributes": {"job_title": "Head of Operations"}},
            {"email": "c@example.com", "attributes": {"job_title": "Designer"}},
        ],
        clock=instance.clock,
        ids=instance.ids,
        source="test",
    )
    ids = [contact_id for _, contact_id, _ in result.stored]
    data = example()
    data["segments"][0]["rule"] = {
        "field": "attributes.job_title",
        "op": "contains",
        "value": "Operations",
    }
    apply(instance, workspace, data)
    save_segment(
        instance.store,
        workspace.id,
        segment_input({"key": "ops", "rule": {"persona": "ops-manager"}}),
        clock=instance.clock,
        ids=instance.ids,
    )
    found = segment_members(
        instance.store, instance.events, workspace.id, "ops", now=instance.clock.now()
    )
    assert found == sorted(ids[:2])
    with pytest.raises(Conflict, match="ops"):
        delete_persona(instance.store, workspace.id, "ops-manager")


def test_a_segment_using_its_own_persona_is_a_cycle(
    instance: Instance, workspace: Workspace
) -> None:
    data = example()
    data["segments"][0]["rule"] = {"all": [{"persona": "ops-manager"}]}
    with pytest.raises(InvalidInput) as caught:
        apply(instance, workspace, data)
    assert caught.value.problems[0].path == "segments[0].rule.all[0].persona"
    assert "cycle" in caught.value.problems[0].problem
    assert list_personas(instance.store, workspace.id) == []
    assert list_segments(instance.store, workspace.id) == []


def test_a_persona_naming_an_unknown_segment_is_refused(
    instance: Instance, workspace: Workspace
) -> None:
    data = {"personas": example()["personas"]}
    with pytest.raises(InvalidInput) as caught:
        apply(instance, workspace, data)
    assert caught.value.problems[0].path == "personas[0].segment"
    assert list_personas(instance.store, workspace.id) == []


def test_the_api_manages_personas(client: TestClient) -> None:
    persona = {"key": "founder", "label": "Startup founder", "channels": ["email"]}
    created = client.post("/v1/personas", json=persona)
    assert created.status_code == 201, created.text
    assert client.post("/v1/personas", json=persona).status_code == 409
    bad = client.post("/v1/personas", json={**persona, "key": "x", "channels": ["fax"]})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["problems"][0]["path"] == "channels[0]"
    changed = client.put("/v1/personas/founder", json={"label": "Founder", "goals": ["Grow"]})
    assert (changed.json()["action"], changed.json()["version"]) == ("updated", 2)
    assert [p["key"] for p in client.get("/v1/personas").json()["personas"]] == ["founder"]
    assert client.get("/v1/personas/founder").json()["goals"] == ["Grow"]
    assert client.delete("/v1/personas/founder").status_code == 200
    assert client.get("/v1/personas/founder").status_code == 404


def test_a_campaign_file_carries_personas(instance: Instance, workspace: Workspace) -> None:
    plan = {
        "key": "spring",
        "name": "Spring",
        "objective": "Leads",
        "start_date": "2027-03-01",
        "end_date": "2027-03-31",
        "budget": {"total": 0},
        **example(),
    }
    loaded = load_plan_text(yaml.safe_dump(plan), "plan.yaml")
    campaigns.apply_plan(
        instance.store, workspace.id, loaded, clock=instance.clock, ids=instance.ids, actor="t"
    )
    assert (
        get_persona(instance.store, workspace.id, "ops-manager").persona.segment == "ops-managers"
    )


def test_the_cli_applies_and_lists_personas(tmp_path: Path) -> None:
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
    applied = clarion("persona", "apply", str(EXAMPLE))
    assert applied.returncode == 0, applied.stderr
    assert "Created persona ops-manager" in applied.stdout
    assert "Unchanged persona ops-manager" in clarion("persona", "apply", str(EXAMPLE)).stdout
    listed = json.loads(clarion("persona", "list", "--json").stdout)
    assert listed[0]["segment"] == "ops-managers"
    assert json.loads(clarion("persona", "show", "ops-manager").stdout)["label"].startswith(
        "Operations"
    )
    refused = clarion("segment", "delete", "ops-managers")
    assert refused.returncode == 1
    assert "persona 'ops-manager'" in refused.stderr
    assert clarion("persona", "delete", "ops-manager").returncode == 0
