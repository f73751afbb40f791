"""Consent ledger, suppression list and can_contact, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from clarion.audiences import service as contacts
from clarion.audiences.mirror import current_contacts
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.core.errors import InvalidInput
from clarion.core.ids import SeededIds
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore


@pytest.fixture
def events(clock: SimulatedClock) -> Iterator[EventStore]:
    with EventStore.open("duckdb://:memory:", clock=clock) as store:
        store.create_schema()
        yield store


@pytest.fixture
def jane(
    store: AppStore, events: EventStore, workspace: Workspace, clock: SimulatedClock, ids: SeededIds
) -> str:
    result = contacts.upsert_contacts(
        store,
        events,
        workspace.id,
        [{"email": "jane@example.com", "phone": "+49 30 1234567", "consents": ["marketing:email"]}],
        clock=clock,
        ids=ids,
        source="form:signup",
        proof_kind="form",
    )
    return result.stored[0][1]


def record(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    contact_id: str,
    pair: str,
    status: str,
) -> None:
    contacts.record_consent(
        store,
        events,
        workspace.id,
        contact_id,
        pair=pair,
        status=status,  # type: ignore[arg-type]
        clock=clock,
        source="api:test",
        proof_kind="api",
    )


def test_the_ledger_is_appended_and_the_newest_entry_decides(
    store: AppStore, events: EventStore, workspace: Workspace, clock: SimulatedClock, jane: str
) -> None:
    clock.advance(timedelta(days=1))
    record(store, events, workspace, clock, jane, "marketing:email", "withdrawn")
    clock.advance(timedelta(days=1))
    record(store, events, workspace, clock, jane, "marketing:email", "granted")
    record(store, events, workspace, clock, jane, "newsletter:email", "granted")
    history = contacts.consent_history(store, workspace.id, jane)
    assert [(e.pair, e.status) for e in history] == [
        ("marketing:email", "granted"),
        ("marketing:email", "withdrawn"),
        ("marketing:email", "granted"),
        ("newsletter:email", "granted"),
    ]
    assert history[0].source == "form:signup" and history[0].proof_kind == "form"
    states = contacts.current_consent(store, workspace.id, jane, now=clock.now())
    assert [(s.pair, s.status) for s in states] == [
        ("marketing:email", "granted"),
        ("newsletter:email", "granted"),
    ]
    # As of a day ago, the withdrawal was the newest entry.
    then = contacts.current_consent(store, workspace.id, jane, now=clock.now() - timedelta(hours=1))
    assert [(s.pair, s.status) for s in then] == [("marketing:email", "withdrawn")]


def test_a_backdated_entry_does_not_override_a_newer_one(
    store: AppStore, events: EventStore, workspace: Workspace, clock: SimulatedClock, jane: str
) -> None:
    clock.advance(timedelta(days=2))
    record(store, events, workspace, clock, jane, "marketing:email", "withdrawn")
    state = contacts.record_consent(
        store,
        events,
        workspace.id,
        jane,
        pair="marketing:email",
        status="granted",
        clock=clock,
        source="crm-sync",
        proof_kind="import",
        at=clock.now() - timedelta(days=1),  # a stale sync reporting an old grant
    )
    assert state.status == "withdrawn"
    decision = contacts.can_contact(
        store, workspace.id, jane, "marketing", "email", now=clock.now()
    )
    assert (decision.allowed, decision.reason) == (False, "consent_withdrawn")


@pytest.mark.parametrize(
    ("pair", "status", "field"),
    [
        ("marketing", "granted", "consent"),
        ("marketing:fax", "granted", "consent"),
        ("spam:email", "granted", "consent"),
        ("marketing:email", "maybe", "status"),
    ],
)
def test_bad_consents_are_refused_naming_the_field(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    jane: str,
    pair: str,
    status: str,
    field: str,
) -> None:
    with pytest.raises(InvalidInput) as caught:
        record(store, events, workspace, clock, jane, pair, status)
    assert caught.value.problems[0].path == field


def test_can_contact_checks_consent_suppression_address_and_erasure(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    ids: SeededIds,
    jane: str,
) -> None:
    now = clock.now()

    def decide(purpose: str, channel: str, contact: str = jane) -> tuple[bool, str]:
        decision = contacts.can_contact(store, workspace.id, contact, purpose, channel, now=now)
        return decision.allowed, decision.reason

    assert decide("marketing", "email") == (True, "consent_granted")
    assert decide("marketing", "sms") == (False, "no_consent")
    assert decide("marketing", "email", "ct_nobody") == (False, "unknown_contact")
    no_phone = contacts.upsert_contacts(
        store,
        events,
        workspace.id,
        [{"email": "b@x.org", "consents": ["marketing:sms"]}],
        clock=clock,
        ids=ids,
        source="t",
    ).stored[0][1]
    assert decide("marketing", "sms", no_phone) == (False, "no_address")
    with pytest.raises(InvalidInput, match="unknown channel"):
        decide("marketing", "carrier-pigeon")


def test_an_unsubscribe_takes_effect_at_once_on_its_channel(
    store: AppStore, events: EventStore, workspace: Workspace, clock: SimulatedClock, jane: str
) -> None:
    record(store, events, workspace, clock, jane, "marketing:sms", "granted")
    entry = contacts.suppress(
        store,
        events,
        workspace.id,
        email="JANE@example.com",
        reason="unsubscribe",
        channel="email",
        clock=clock,
        source="link:msg_1",
    )
    now = clock.now()
    email = contacts.can_contact(store, workspace.id, jane, "marketing", "email", now=now)
    sms = contacts.can_contact(store, workspace.id, jane, "marketing", "sms", now=now)
    assert (email.allowed, email.reason) == (False, "suppressed")
    assert "unsubscribe" in email.detail
    assert sms.allowed
    assert contacts.is_suppressed(store, workspace.id, contact_id=jane, channel="email", now=now)
    assert not contacts.is_suppressed(store, workspace.id, contact_id=jane, channel="sms", now=now)
    row = current_contacts(events, workspace.id).to_pyarrow().to_pylist()[0]
    assert row["suppressed"] is True
    # Suppressing again reuses the entry; lifting it (a re-subscription) allows email again.
    again = contacts.suppress(
        store,
        events,
        workspace.id,
        contact_id=jane,
        reason="unsubscribe",
        channel="email",
        clock=clock,
        source="link:msg_2",
    )
    assert again.id == entry.id
    clock.advance(timedelta(minutes=1))
    contacts.lift_suppression(store, events, workspace.id, entry.id, clock=clock)
    after = contacts.can_contact(store, workspace.id, jane, "marketing", "email", now=clock.now())
    assert after.allowed


def test_an_address_suppressed_before_it_is_a_contact_stays_suppressed(
    store: AppStore, events: EventStore, workspace: Workspace, clock: SimulatedClock, ids: SeededIds
) -> None:
    contacts.suppress(
        store,
        events,
        workspace.id,
        email="bounced@x.org",
        reason="hard_bounce",
        clock=clock,
        source="smtp",
    )
    result = contacts.upsert_contacts(
        store,
        events,
        workspace.id,
        [{"email": "Bounced@x.org", "consents": ["marketing:email"]}],
        clock=clock,
        ids=ids,
        source="t",
    )
    contact_id = result.stored[0][1]
    decision = contacts.can_contact(
        store, workspace.id, contact_id, "marketing", "email", now=clock.now()
    )
    assert (decision.allowed, decision.reason) == (False, "suppressed")
    assert current_contacts(events, workspace.id).to_pyarrow().to_pylist()[0]["suppressed"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "a@x.org", "reason": "erased"}, "reason"),
        ({"email": "a@x.org", "reason": "bored"}, "reason"),
        ({"email": "a@x.org", "reason": "manual", "channel": "fax"}, "channel"),
        ({"email": "not an address", "reason": "manual"}, "email"),
        ({"reason": "manual"}, "email"),
    ],
)
def test_bad_suppressions_are_refused(
    store: AppStore,
    events: EventStore,
    workspace: Workspace,
    clock: SimulatedClock,
    kwargs: dict[str, str],
    field: str,
) -> None:
    with pytest.raises(InvalidInput) as caught:
        contacts.suppress(store, events, workspace.id, clock=clock, source="t", **kwargs)  # type: ignore[arg-type]
    assert caught.value.problems[0].path == field


def test_can_contact_many_decides_a_whole_audience_in_a_few_queries(
    store: AppStore, events: EventStore, workspace: Workspace, clock: SimulatedClock, ids: SeededIds
) -> None:
    items: list[dict[str, Any]] = [
        {"email": f"p{i}@x.org", "consents": ["marketing:email"] if i % 3 else []}
        for i in range(1200)
    ]
    for start in (0, 600):
        contacts.upsert_contacts(
            store,
            events,
            workspace.id,
            items[start : start + 600],
            clock=clock,
            ids=ids,
            source="t",
        )
    contacts.suppress(
        store, events, workspace.id, email="p1@x.org", reason="complaint", clock=clock, source="t"
    )
    everyone = [
        c.id
        for c in (contacts.find_contact(store, workspace.id, email=i["email"]) for i in items)
        if c
    ]
    decisions = contacts.can_contact_many(
        store, workspace.id, [*everyone, "ct_unknown"], "marketing", "email", now=clock.now()
    )
    reasons = [decisions[c].reason for c in everyone[:4]]
    assert reasons == ["no_consent", "suppressed", "consent_granted", "no_consent"]
    assert sum(d.allowed for d in decisions.values()) == 799
    assert decisions["ct_unknown"].reason == "unknown_contact"
