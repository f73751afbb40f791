"""Personal data: the one masking policy per role, and erasure on request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from clarion.audiences import pii
from clarion.audiences import service as contacts
from clarion.audiences.contracts import PERSONAL_FIELDS, Contact
from clarion.audiences.mirror import current_contacts
from clarion.audiences.normalise import email_hash
from clarion.audiences.tables import consent_events
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.core.errors import InvalidInput
from clarion.core.ids import SeededIds
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore
from clarion.tracking.intake import email_pseudonym

T0 = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
JANE = Contact(
    id="ct_1",
    workspace_id="ws_1",
    external_id="crm-1",
    email="jane.doe@example.com",
    email_hash=email_hash("jane.doe@example.com"),
    phone="+49301234567",
    first_name="Jane",
    last_name="Doe",
    address_line1="Hauptstr. 1",
    address_line2="Hinterhaus",
    postal_code="10115",
    city="Berlin",
    region="BE",
    country="DE",
    persona="ops-manager",
    lifecycle_stage="lead",
    attributes={"tier": "gold"},
    created_at=T0,
    updated_at=T0,
    erased_at=None,
)

# What each role sees of Jane: the policy, written out as it reads in docs/contacts.md.
EXPECTED: dict[str, dict[str, Any]] = {
    "admin": {
        "email": "jane.doe@example.com",
        "phone": "+49301234567",
        "first_name": "Jane",
        "last_name": "Doe",
        "address_line1": "Hauptstr. 1",
        "address_line2": "Hinterhaus",
        "postal_code": "10115",
        "attributes": {"tier": "gold"},
    },
    "marketer": {
        "email": "jane.doe@example.com",
        "phone": "+49301234567",
        "first_name": "Jane",
        "last_name": "Doe",
        "address_line1": "•••",
        "address_line2": "•••",
        "postal_code": "10115",
        "attributes": {"tier": "gold"},
    },
    "analyst": {
        "email": "j•••@example.com",
        "phone": "+49•••67",
        "first_name": "J.",
        "last_name": "D.",
        "address_line1": None,
        "address_line2": None,
        "postal_code": "10•••",
        "attributes": {"tier": "gold"},
    },
    "viewer": dict.fromkeys([*PERSONAL_FIELDS, "attributes"]),
}


@pytest.mark.parametrize("role", pii.ROLES)
def test_each_role_sees_what_the_policy_allows(role: str) -> None:
    view = pii.mask_contact(JANE, role)
    assert {field: view[field] for field in EXPECTED[role]} == EXPECTED[role]
    # What is not personal is the same for everyone.
    assert (view["id"], view["city"], view["country"], view["persona"]) == (
        "ct_1",
        "Berlin",
        "DE",
        "ops-manager",
    )
    assert view["role"] == role
    assert set(view["masked"]) == {
        f for f in EXPECTED[role] if EXPECTED[role][f] != EXPECTED["admin"][f]
    }


def test_the_policy_covers_every_personal_field_and_role() -> None:
    assert set(pii.POLICY) == {*PERSONAL_FIELDS, "attributes"}
    for field, by_role in pii.POLICY.items():
        assert set(by_role) == set(pii.ROLES), field
        assert by_role["admin"] == "full"


def test_an_unknown_role_is_refused_not_shown_everything() -> None:
    with pytest.raises(InvalidInput, match="unknown role 'root'"):
        pii.mask_contact(JANE, "root")


def test_empty_fields_are_not_reported_as_masked() -> None:
    bare = replace(JANE, phone=None, address_line1=None, address_line2=None)
    view = pii.mask_contact(bare, "viewer")
    assert "phone" not in view["masked"] and view["phone"] is None


@pytest.fixture
def events(clock: SimulatedClock) -> Iterator[EventStore]:
    with EventStore.open("duckdb://:memory:", clock=clock) as store:
        store.create_schema()
        yield store


def test_erasure_removes_personal_data_everywhere_and_keeps_the_address_suppressed(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    ids: SeededIds,
    tmp_path: Path,
) -> None:
    result = contacts.upsert_contacts(
        store,
        events,
        workspace.id,
        [
            {
                "external_id": "crm-1",
                "email": "jane.doe@example.com",
                "phone": "+49301234567",
                "first_name": "Jane",
                "address_line1": "Hauptstr. 1",
                "city": "Berlin",
                "country": "DE",
                "attributes": {"birthday": "1990-01-01"},
                "consents": [
                    {
                        "purpose": "marketing",
                        "channel": "email",
                        "proof": {"kind": "form", "ref": "signup form, jane.doe@example.com"},
                    }
                ],
            }
        ],
        clock=clock,
        ids=ids,
        source="api:test",
    )
    jane = result.stored[0][1]
    events.append(
        "events",
        [
            {
                "event_id": "ev-1",
                "workspace_id": workspace.id,
                "type": "email_open",
                "ts": clock.now(),
                "contact_id": jane,
            }
        ],
    )
    clock.advance(timedelta(days=30))

    erased = contacts.erase_contact(store, events, workspace.id, jane, clock=clock, source="dsr-7")

    assert erased.erased_at == clock.now()
    for field in (*PERSONAL_FIELDS, "external_id", "email_hash", "city", "region"):
        assert getattr(erased, field) is None, field
    assert erased.attributes == {} and erased.country == "DE"
    # The ledger keeps what was consented to and when, not the proof's text.
    history = contacts.consent_history(store, workspace.id, jane)
    assert [(e.pair, e.proof_ref) for e in history] == [("marketing:email", None)]
    with store.reading() as conn:
        assert conn.execute(select(consent_events.c.proof_ref)).scalars().all() == [None]
    # The mirror's newest version is erased and bare; the contact leaves every audience.
    assert current_contacts(events, workspace.id).count().execute() == 0
    newest = (
        (events.table("contacts").order_by(events.table("contacts").updated_at.desc()).limit(1))
        .to_pyarrow()
        .to_pylist()[0]
    )
    assert newest["erased"] is True and newest["email_hash"] is None
    assert newest["attributes"] is None and newest["consents"] == "[]"
    # Events stay, under the pseudonymous id.
    assert events.table("events").count().execute() == 1
    # Never contacted again: not by id, not when the address comes back in a file or a call.
    decision = contacts.can_contact(
        store, workspace.id, jane, "marketing", "email", now=clock.now()
    )
    assert (decision.allowed, decision.reason) == (False, "erased")
    assert contacts.is_suppressed(
        store, workspace.id, email="Jane.Doe@example.com", now=clock.now()
    )
    again = contacts.upsert_contacts(
        store,
        events,
        workspace.id,
        [{"email": "JANE.DOE@example.com"}],
        clock=clock,
        ids=ids,
        source="api:test",
    )
    assert again.created == 0 and "erased on request" in again.rejected[0].problem
    path = tmp_path / "stale-crm-export.csv"
    path.write_text("email,first_name\njane.doe@example.com,Jane\nother@example.com,O\n")
    report = contacts.import_contacts(
        store, events, path, workspace_id=workspace.id, clock=clock, ids=ids
    )
    assert (report.created, report.rejected) == (1, 1)
    # The kept hash is the one the tracker's pseudonym is made from, and nothing else.
    entries = contacts.suppressions_of(store, workspace.id, jane)
    assert [(e.reason, e.email_hash is not None) for e in entries] == [("erased", True)]
    assert email_pseudonym("jane.doe@example.com") == "eh_" + (entries[0].email_hash or "")[:40]
    # Erasing twice changes nothing; consent can no longer be recorded.
    assert (
        contacts.erase_contact(
            store, events, workspace.id, jane, clock=clock, source="dsr-7"
        ).erased_at
        == erased.erased_at
    )
    with pytest.raises(InvalidInput, match="erased"):
        contacts.record_consent(
            store,
            events,
            workspace.id,
            jane,
            pair="marketing:email",
            status="granted",
            clock=clock,
            source="t",
            proof_kind="api",
        )


def test_an_erasure_suppression_cannot_be_lifted(
    store: AppStore, events: EventStore, workspace: Workspace, clock: SimulatedClock, ids: SeededIds
) -> None:
    result = contacts.upsert_contacts(
        store, events, workspace.id, [{"email": "a@x.org"}], clock=clock, ids=ids, source="t"
    )
    contact_id = result.stored[0][1]
    contacts.erase_contact(store, events, workspace.id, contact_id, clock=clock, source="t")
    entry = contacts.suppressions_of(store, workspace.id, contact_id)[0]
    with pytest.raises(InvalidInput, match="cannot be lifted"):
        contacts.lift_suppression(store, events, workspace.id, entry.id, clock=clock)
    assert contacts.suppressions_of(store, workspace.id, contact_id)[0].lifted_at is None
