"""Stored segments: saved through the facade, resolved by key, snapshotted, on both app stores."""

from __future__ import annotations

from typing import Any

import pytest

from clarion.audiences import service as audiences
from clarion.audiences.segments.snapshot import segment_members
from clarion.audiences.segments.store import (
    delete_segment,
    get_segment,
    list_segments,
    save_segment,
)
from clarion.audiences.segments.stored import segment_input
from clarion.auth.contracts import Workspace
from clarion.core.errors import Conflict, InvalidInput, NotFound
from clarion.instance import Instance

PEOPLE = [
    {"email": "ana@example.com", "country": "FR", "attributes": {"plan": "pro"}},
    {"email": "bo@example.com", "country": "ES", "attributes": {"plan": "free"}},
    {"email": "cy@example.com", "country": "DE", "attributes": {"plan": "pro"}},
    {"email": "dee@example.com", "country": "FR", "attributes": {"plan": "'; DROP TABLE x;--"}},
]


@pytest.fixture
def people(instance: Instance, workspace: Workspace) -> dict[str, str]:
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
    ids = {}
    for person in PEOPLE:
        found = audiences.find_contact(instance.store, workspace.id, email=person["email"])
        assert found is not None
        ids[person["email"].split("@")[0]] = found.id
    return ids


def save(instance: Instance, workspace: Workspace, data: dict[str, Any], **kw: Any) -> Any:
    return save_segment(
        instance.store,
        workspace.id,
        segment_input(data),
        clock=instance.clock,
        ids=instance.ids,
        **kw,
    )


def members(instance: Instance, workspace: Workspace, key: str) -> list[str]:
    assert instance.events is not None
    return segment_members(
        instance.store, instance.events, workspace.id, key, now=instance.clock.now()
    )


FRENCH = {
    "key": "french",
    "name": "In France",
    "rule": {"field": "country", "op": "=", "value": "FR"},
}
PRO = {
    "key": "pro",
    "rule": {"field": "attributes.plan", "op": "=", "value": "pro"},
    "attribute_types": {"plan": "string"},
}


def test_a_segment_is_saved_read_listed_and_versioned(
    instance: Instance, workspace: Workspace
) -> None:
    created = save(instance, workspace, FRENCH, create_only=True)
    assert created.action == "created"
    assert created.segment.version == 1
    again = save(instance, workspace, FRENCH)
    assert again.action == "unchanged"
    assert again.segment.version == 1
    changed = save(
        instance,
        workspace,
        {**FRENCH, "rule": {"field": "country", "op": "in", "value": ["FR", "BE"]}},
    )
    assert (changed.action, changed.segment.version) == ("updated", 2)
    assert get_segment(instance.store, workspace.id, created.segment.id).key == "french"
    assert [s.key for s in list_segments(instance.store, workspace.id)] == ["french"]
    with pytest.raises(Conflict):
        save(instance, workspace, FRENCH, create_only=True)


def test_the_snapshot_returns_the_members_at_now(
    instance: Instance, workspace: Workspace, people: dict[str, str]
) -> None:
    save(instance, workspace, FRENCH)
    assert members(instance, workspace, "french") == sorted([people["ana"], people["dee"]])
    with pytest.raises(NotFound):
        members(instance, workspace, "nobody")


def test_segments_use_segments_through_the_store(
    instance: Instance, workspace: Workspace, people: dict[str, str]
) -> None:
    save(instance, workspace, FRENCH)
    save(instance, workspace, PRO)
    both = {"key": "french-pro", "rule": {"all": [{"segment": "french"}, {"segment": "pro"}]}}
    save(instance, workspace, both)
    assert members(instance, workspace, "french-pro") == [people["ana"]]


def test_a_cycle_is_refused_with_the_path_of_the_reference(
    instance: Instance, workspace: Workspace
) -> None:
    save(
        instance,
        workspace,
        {"key": "a", "rule": {"all": [{"field": "country", "op": "=", "value": "FR"}]}},
    )
    save(instance, workspace, {"key": "b", "rule": {"any": [{"segment": "a"}]}})
    with pytest.raises(InvalidInput) as caught:
        save(instance, workspace, {"key": "a", "rule": {"all": [{"not": {"segment": "b"}}]}})
    problem = caught.value.problems[0]
    assert problem.path == "rule.all[0].not.segment"
    assert "a → b → a" in problem.problem
    assert get_segment(instance.store, workspace.id, "a").version == 1  # nothing saved


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"key": "x", "rule": {"field": "colour", "op": "=", "value": "red"}}, "rule.field"),
        ({"key": "x", "rule": {"field": "country", "op": "resembles", "value": "FR"}}, "rule.op"),
        ({"key": "x", "rule": {"field": "lead_score", "op": "contains", "value": "x"}}, "rule.op"),
        ({"key": "x", "rule": {"segment": "missing"}}, "rule.segment"),
        ({"key": "x", "rule": {"persona": "missing"}}, "rule.persona"),
        ({"key": "x", "rule": {"segment": "x"}}, "rule.segment"),
        ({"key": "Bad Key", "rule": {"field": "country", "op": "=", "value": "FR"}}, "key"),
        (
            {"key": "x", "rule": {"field": "country", "op": "=", "value": "FR"}, "colour": 1},
            "colour",
        ),
        (
            {
                "key": "x",
                "rule": {"field": "country", "op": "=", "value": "FR"},
                "attribute_types": {"a": "blob"},
            },
            "attribute_types.a",
        ),
    ],
)
def test_bad_definitions_are_refused_with_a_path(
    instance: Instance, workspace: Workspace, data: dict[str, Any], path: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        save(instance, workspace, data)
    assert caught.value.problems[0].path == path
    assert list_segments(instance.store, workspace.id) == []


def test_a_10000_deep_rule_is_refused_with_a_path(instance: Instance, workspace: Workspace) -> None:
    rule: dict[str, Any] = {"field": "country", "op": "=", "value": "FR"}
    for _ in range(10_000):
        rule = {"not": rule}
    with pytest.raises(InvalidInput) as caught:
        save(instance, workspace, {"key": "deep", "rule": rule})
    assert caught.value.problems[0].path.startswith("rule.not.not")


def test_sql_looking_values_are_just_values(
    instance: Instance, workspace: Workspace, people: dict[str, str]
) -> None:
    save(
        instance,
        workspace,
        {
            "key": "odd",
            "rule": {"field": "attributes.plan", "op": "=", "value": "'; DROP TABLE x;--"},
            "attribute_types": {"plan": "string"},
        },
    )
    assert members(instance, workspace, "odd") == [people["dee"]]


def test_a_used_segment_cannot_be_deleted(instance: Instance, workspace: Workspace) -> None:
    save(instance, workspace, FRENCH)
    save(instance, workspace, {"key": "uses", "rule": {"not": {"segment": "french"}}})
    with pytest.raises(Conflict, match="uses"):
        delete_segment(instance.store, workspace.id, "french")
    delete_segment(instance.store, workspace.id, "uses")
    delete_segment(instance.store, workspace.id, "french")
    assert list_segments(instance.store, workspace.id) == []
