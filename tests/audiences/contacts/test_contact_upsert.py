"""Batch upsert through the facade, on SQLite and PostgreSQL: matching, merging, rejections."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import inspect

from clarion.audiences import service as contacts
from clarion.audiences.contracts import UpsertResult
from clarion.audiences.mirror import current_contacts
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.core.errors import InvalidInput, NotFound
from clarion.core.ids import SeededIds
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore


@pytest.fixture
def events(clock: SimulatedClock) -> Iterator[EventStore]:
    with EventStore.open("duckdb://:memory:", clock=clock) as store:
        store.create_schema()
        yield store


def upsert(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    ids: SeededIds,
    *items: Any,
) -> UpsertResult:
    return contacts.upsert_contacts(
        store, events, workspace.id, list(items), clock=clock, ids=ids, source="api:test"
    )


def mirrored(events: EventStore, workspace: Workspace) -> dict[str, dict[str, Any]]:
    rows = current_contacts(events, workspace.id).to_pyarrow().to_pylist()
    return {row["contact_id"]: row for row in rows}


def test_new_contacts_are_created_normalised_and_mirrored_without_pii(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    ids: SeededIds,
) -> None:
    result = upsert(
        store,
        events,
        workspace,
        clock,
        ids,
        {
            "email": " Jane@Example.com",
            "first_name": "Jane",
            "phone": "030 1234567",
            "country": "de",
            "city": "Berlin",
            "persona": "ops-manager",
            "lifecycle_stage": "Lead",
            "attributes": {"company_size": 250, "tier": "gold"},
            "consents": ["marketing:email"],
        },
    )
    assert (result.created, result.updated, result.rejected) == (1, 0, ())
    (index, contact_id, action) = result.stored[0]
    assert (index, action) == (0, "created") and contact_id.startswith("ct_")
    contact = contacts.get_contact(store, workspace.id, contact_id)
    assert (contact.email, contact.phone, contact.country) == (
        "jane@example.com",
        "+49301234567",
        "DE",
    )
    assert contact.lifecycle_stage == "lead"
    assert contact.attributes == {"company_size": 250, "tier": "gold"}
    row = mirrored(events, workspace)[contact_id]
    assert row["email_hash"] == contact.email_hash
    assert row["consents"] == '["marketing:email"]'
    assert (row["suppressed"], row["erased"], row["city"]) == (False, False, "Berlin")
    assert "jane" not in str(row).lower()  # no plaintext PII in the mirror


def test_contacts_are_matched_by_external_id_then_email(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    ids: SeededIds,
) -> None:
    first = upsert(store, events, workspace, clock, ids, {"email": "a@x.org", "first_name": "A"})
    contact_id = first.stored[0][1]
    # By email: the stored contact gains an external id and a last name; empty values keep.
    again = upsert(
        store, events, workspace, clock, ids, {"email": "A@X.org", "external_id": "crm-1"}
    )
    assert again.stored == ((0, contact_id, "updated"),)
    # By external id: the address may change.
    moved = upsert(
        store, events, workspace, clock, ids, {"external_id": "crm-1", "email": "b@x.org"}
    )
    assert moved.stored == ((0, contact_id, "updated"),)
    contact = contacts.get_contact(store, workspace.id, contact_id)
    assert (contact.email, contact.external_id, contact.first_name) == ("b@x.org", "crm-1", "A")
    same = upsert(store, events, workspace, clock, ids, {"external_id": "crm-1", "first_name": "A"})
    assert (same.unchanged, same.stored[0][2]) == (1, "unchanged")


def test_items_naming_the_same_contact_are_merged_in_order(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    ids: SeededIds,
) -> None:
    result = upsert(
        store,
        events,
        workspace,
        clock,
        ids,
        {"email": "a@x.org", "first_name": "Old", "attributes": {"a": 1}},
        {"email": "A@x.org ", "first_name": "New", "attributes": {"b": 2}},
    )
    assert result.created == 1 and result.updated == 1
    (_, first_id, created), (_, second_id, merged) = result.stored
    assert first_id == second_id and (created, merged) == ("created", "merged")
    contact = contacts.get_contact(store, workspace.id, first_id)
    assert contact.first_name == "New" and contact.attributes == {"a": 1, "b": 2}
    assert len(mirrored(events, workspace)) == 1


def test_keys_that_point_at_two_contacts_are_rejected_not_guessed(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    ids: SeededIds,
) -> None:
    setup = upsert(
        store,
        events,
        workspace,
        clock,
        ids,
        {"external_id": "1", "email": "one@x.org"},
        {"external_id": "2", "email": "two@x.org"},
    )
    one, two = (contact_id for _, contact_id, _ in setup.stored)
    result = upsert(
        store,
        events,
        workspace,
        clock,
        ids,
        {"external_id": "1", "email": "two@x.org"},  # two stored contacts
        {"external_id": "3", "email": "one@x.org"},  # the address has another external id
        {"external_id": "4", "email": "new@x.org"},
        {"external_id": "5", "email": "new@x.org"},  # same batch, another external id
    )
    assert [(p.index, p.field) for p in result.rejected] == [
        (0, "email"),
        (1, "external_id"),
        (3, "external_id"),
    ]
    assert f"another contact ({two})" in result.rejected[0].problem
    assert result.created == 1
    assert contacts.get_contact(store, workspace.id, one).email == "one@x.org"


def test_bad_items_are_rejected_one_by_one_and_the_rest_kept(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    ids: SeededIds,
) -> None:
    result = upsert(
        store,
        events,
        workspace,
        clock,
        ids,
        {"email": "ok@x.org"},
        {"email": "not-an-address"},
        "a string",
        {"first_name": "nobody"},
        {"email": "ok2@x.org", "phone": "12345"},
    )
    assert result.created == 1
    assert [(p.index, p.field) for p in result.rejected] == [
        (1, "email"),
        (2, "*"),
        (3, "email"),
        (4, "phone"),
    ]
    assert "has no country code" in result.rejected[3].problem


@pytest.mark.parametrize(
    "hostile",
    [
        "Robert'); DROP TABLE contacts;--",
        "<script>alert(document.cookie)</script>",
        "<img src=x onerror=alert(1)>",
        '=HYPERLINK("http://evil.example")',
        "名前 – Ünïcödé ✓",
    ],
)
def test_hostile_text_is_stored_verbatim_and_harms_nothing(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    ids: SeededIds,
    hostile: str,
) -> None:
    result = upsert(
        store,
        events,
        workspace,
        clock,
        ids,
        {"email": "h@x.org", "last_name": hostile, "attributes": {"note": hostile}},
    )
    contact = contacts.get_contact(store, workspace.id, result.stored[0][1])
    assert contact.last_name == hostile and contact.attributes["note"] == hostile
    assert "contacts" in inspect(store.engine).get_table_names()


def test_huge_input_is_refused_with_its_size(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    ids: SeededIds,
) -> None:
    with pytest.raises(InvalidInput, match="at most 1000 contacts"):
        upsert(
            store, events, workspace, clock, ids, *({"email": f"{i}@x.org"} for i in range(1001))
        )
    result = upsert(
        store,
        events,
        workspace,
        clock,
        ids,
        {"email": "a@x.org", "first_name": "x" * 10_000},
        {"email": "b@x.org", "attributes": {"blob": "y" * 100_000}},
        {"email": "c" * 10_000 + "@x.org"},
    )
    assert [p.field for p in result.rejected] == ["first_name", "attributes", "email"]
    assert all(len(p.problem) < 200 for p in result.rejected)  # the value is not echoed whole


def test_contacts_of_another_workspace_are_not_found(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    ids: SeededIds,
) -> None:
    result = upsert(store, events, workspace, clock, ids, {"email": "a@x.org"})
    with pytest.raises(NotFound):
        contacts.get_contact(store, "ws_other", result.stored[0][1])
    found = contacts.find_contact(store, workspace.id, email=" A@X.ORG ")
    assert found is not None and found.id == result.stored[0][1]
    assert contacts.find_contact(store, workspace.id, external_id="nope") is None
