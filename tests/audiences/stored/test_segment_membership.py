"""Materialised membership: refreshes record entries and exits, idempotent at one instant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from clarion.audiences import service as audiences
from clarion.audiences.segments.membership import current_members, refresh_segment, transitions
from clarion.audiences.segments.store import save_segment
from clarion.audiences.segments.stored import segment_input
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.core.errors import Conflict
from clarion.instance import Instance


def upsert(
    instance: Instance, workspace: Workspace, people: list[dict[str, str]]
) -> dict[str, str]:
    assert instance.events is not None
    result = audiences.upsert_contacts(
        instance.store,
        instance.events,
        workspace.id,
        people,
        clock=instance.clock,
        ids=instance.ids,
        source="test",
    )
    assert not result.rejected
    return {people[index]["email"]: contact_id for index, contact_id, _ in result.stored}


def test_refreshes_record_who_entered_and_who_left(
    instance: Instance, workspace: Workspace
) -> None:
    assert instance.events is not None and isinstance(instance.clock, SimulatedClock)
    events, clock = instance.events, instance.clock
    ids = upsert(
        instance,
        workspace,
        [
            {"email": "ana@example.com", "country": "FR"},
            {"email": "bo@example.com", "country": "ES"},
        ],
    )
    save_segment(
        instance.store,
        workspace.id,
        segment_input({"key": "french", "rule": {"field": "country", "op": "=", "value": "FR"}}),
        clock=clock,
        ids=instance.ids,
    )
    first = refresh_segment(instance.store, events, workspace.id, "french", now=clock.now())
    assert (first.entered, first.exited, first.members) == (1, 0, 1)
    again = refresh_segment(instance.store, events, workspace.id, "french", now=clock.now())
    assert (again.entered, again.exited, again.members) == (0, 0, 1)

    start = clock.now()
    clock.advance(timedelta(hours=1))
    upsert(
        instance,
        workspace,
        [
            {"email": "ana@example.com", "country": "DE"},
            {"email": "bo@example.com", "country": "FR"},
        ],
    )
    later = refresh_segment(instance.store, events, workspace.id, "french", now=clock.now())
    assert (later.entered, later.exited, later.members) == (1, 1, 1)

    count, rows = current_members(instance.store, events, workspace.id, "french", now=clock.now())
    assert (count, rows) == (1, [(ids["bo@example.com"], clock.now())])
    found = transitions(instance.store, events, workspace.id, "french")
    assert [(t.contact_id, t.change, t.ts) for t in found] == [
        (ids["ana@example.com"], "entered", start),
        (ids["bo@example.com"], "entered", clock.now()),
        (ids["ana@example.com"], "exited", clock.now()),
    ]
    assert len(transitions(instance.store, events, workspace.id, "french", since=start)) == 2
    with pytest.raises(Conflict, match="earlier"):
        refresh_segment(instance.store, events, workspace.id, "french", now=start)


def test_the_api_refreshes_and_lists_members(
    client: TestClient, instance: Instance, workspace: Workspace
) -> None:
    upsert(instance, workspace, [{"email": "ana@example.com", "country": "FR"}])
    assert (
        client.post(
            "/v1/segments",
            json={"key": "french", "rule": {"field": "country", "op": "=", "value": "FR"}},
        ).status_code
        == 201
    )
    done = client.post("/v1/segments/french/refresh")
    assert done.status_code == 200, done.text
    assert (done.json()["entered"], done.json()["members"]) == (1, 1)
    assert client.post("/v1/segments/french/refresh").json()["entered"] == 0
    listed = client.get("/v1/segments/french/members").json()
    assert listed["count"] == 1
    history = client.get("/v1/segments/french/transitions").json()["transitions"]
    assert [t["change"] for t in history] == ["entered"]
    naive = client.get("/v1/segments/french/transitions", params={"since": "2027-01-01T00:00:00"})
    assert naive.status_code == 422
    assert client.post("/v1/segments/nobody/refresh").status_code == 404
