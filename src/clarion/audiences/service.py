"""The contacts facade: upsert, import, read, consent, suppression, contactability, erasure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from clarion.audiences import consent, mirroring, normalise, pii, suppression, upsert
from clarion.audiences.contracts import (
    CHANNELS,
    PROOF_KINDS,
    SUPPRESSION_REASONS,
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    Contact,
    Decision,
    ItemProblem,
    ProofKind,
    Suppression,
    SuppressionReason,
    UpsertResult,
)
from clarion.audiences.importer import import_contacts
from clarion.audiences.records import MAX_PROOF_REF, parse_item, parse_pair
from clarion.audiences.tables import contacts
from clarion.core.clock import Clock
from clarion.core.errors import FieldProblem, InvalidInput, NotFound
from clarion.core.ids import IdSource
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

MAX_UPSERT: Final = 1000  # contacts per API call
MAX_SOURCE: Final = 200

__all__ = [
    "MAX_UPSERT",
    "can_contact",
    "can_contact_many",
    "consent_history",
    "contact_view",
    "contacts_as",
    "current_consent",
    "erase_contact",
    "find_contact",
    "get_contact",
    "import_contacts",
    "is_suppressed",
    "lift_suppression",
    "mask_contact",
    "record_consent",
    "resync_mirror",
    "suppress",
    "suppressions_of",
    "upsert_contacts",
]

mask_contact = pii.mask_contact
erase_contact = pii.erase_contact


def upsert_contacts(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    items: Sequence[Any],
    *,
    clock: Clock,
    ids: IdSource,
    source: str,
    proof_kind: ProofKind = "api",
) -> UpsertResult:
    """Create or update a batch of contacts (JSON objects); bad items are rejected one by one.

    Items are matched by external id, then email; items naming the same contact are merged
    in order. Consents an item carries are recorded with ``source`` and ``proof_kind``.
    """
    if len(items) > MAX_UPSERT:
        problem = f"at most {MAX_UPSERT} contacts per call, not {len(items)}"
        raise InvalidInput(problem, [FieldProblem("contacts", problem)])
    now = clock.now()
    checked: list[upsert.Item] = []
    rejected: list[ItemProblem] = []
    for index, item in enumerate(items):
        record, problems = parse_item(item, now=now)
        if record is None:
            rejected.extend(ItemProblem(index, field, problem) for field, problem in problems)
        else:
            checked.append(upsert.Item(index, record))
    outcome = upsert.BatchOutcome()
    versions: list[dict[str, Any]] = []
    if checked:
        for attempt in (1, 2):
            try:
                with store.transaction() as conn:
                    outcome = upsert.upsert_batch(
                        conn,
                        workspace_id,
                        checked,
                        now=now,
                        ids=ids,
                        source=source,
                        proof_kind=proof_kind,
                    )
                    versions = outcome.mirror
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        _mirror(events, workspace_id, clock, versions)
    rejected.extend(outcome.rejected)
    return UpsertResult(
        created=outcome.count("created"),
        updated=outcome.count("updated") + outcome.count("merged"),
        unchanged=outcome.count("unchanged"),
        stored=tuple(outcome.stored),
        rejected=tuple(sorted(rejected, key=lambda p: p.index)),
    )


def contact_view(
    store: AppStore, workspace_id: str, contact_id: str, *, role: str, now: datetime
) -> dict[str, Any]:
    """A contact as ``role`` may see it (``mask_contact``), with its consents and suppressions:
    what the API and the CLI show."""
    with store.reading() as conn:
        row = upsert.find(conn, workspace_id, contact_id)
        states = consent.current_states(conn, workspace_id, [row.id], now=now).get(row.id, {})
        entries = suppression.of_contact(conn, workspace_id, row.id, row.email_hash)
    view = pii.mask_contact(upsert.to_contact(row), role)
    view["consents"] = [
        {
            "purpose": s.purpose,
            "channel": s.channel,
            "status": s.status,
            "since": s.since.isoformat(),
            "source": s.source,
        }
        for s in sorted(states.values(), key=lambda s: (s.purpose, s.channel))
    ]
    view["suppressions"] = [
        {
            "id": e.id,
            "reason": e.reason,
            "channel": e.channel,
            "since": e.created_at.isoformat(),
            "lifted_at": e.lifted_at.isoformat() if e.lifted_at else None,
            "source": e.source,
        }
        for e in entries
    ]
    view["suppressed"] = any(
        e.lifted_at is None or e.lifted_at > now for e in entries if e.created_at <= now
    )
    return view


def contacts_as(
    store: AppStore, workspace_id: str, contact_ids: Sequence[str], *, role: str
) -> list[dict[str, Any]]:
    """These contacts as ``role`` may see them (``mask_contact``), in the order given; ids that
    are not contacts of the workspace are left out."""
    pii.check_role(role)
    found: dict[str, Any] = {}
    with store.reading() as conn:
        for part in consent.chunks(list(contact_ids)):
            rows = conn.execute(
                select(contacts).where(
                    contacts.c.workspace_id == workspace_id, contacts.c.id.in_(part)
                )
            )
            found.update((row.id, row) for row in rows)
    return [pii.mask_contact(upsert.to_contact(found[i]), role) for i in contact_ids if i in found]


def get_contact(store: AppStore, workspace_id: str, contact_id: str) -> Contact:
    """The contact with this id; NotFound otherwise."""
    with store.reading() as conn:
        return upsert.to_contact(upsert.find(conn, workspace_id, contact_id))


def find_contact(
    store: AppStore, workspace_id: str, *, email: str | None = None, external_id: str | None = None
) -> Contact | None:
    """The contact with this email (normalised first) or external id, or None."""
    with store.reading() as conn:
        if email is not None:
            row = upsert.find_by(conn, workspace_id, "email", _email(email))
        elif external_id is not None:
            row = upsert.find_by(conn, workspace_id, "external_id", external_id)
        else:
            raise ValueError("give email or external_id")
    return None if row is None else upsert.to_contact(row)


def record_consent(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    contact_id: str,
    *,
    pair: str,
    status: ConsentStatus,
    clock: Clock,
    source: str,
    proof_kind: ProofKind,
    proof_ref: str | None = None,
    at: datetime | None = None,
) -> ConsentState:
    """Append a grant or withdrawal of ``purpose:channel`` to the ledger; takes effect at once.

    ``at`` is when the person gave or withdrew it (default: now). The returned state is the
    pair's current one, which an entry dated before a later one does not change.
    """
    purpose, channel = _pair(pair)
    problems = []
    if status not in ("granted", "withdrawn"):
        problems.append(FieldProblem("status", "must be granted or withdrawn"))
    if proof_kind not in PROOF_KINDS:
        problems.append(FieldProblem("proof.kind", f"must be one of {', '.join(PROOF_KINDS)}"))
    ref = _text("proof.ref", proof_ref, MAX_PROOF_REF, problems)
    source = _text("source", source, MAX_SOURCE, problems) or "unknown"
    now = clock.now()
    if at is not None and at > now:
        problems.append(FieldProblem("at", "is in the future"))
    if problems:
        raise InvalidInput(f"{problems[0].path}: {problems[0].problem}", problems)
    with store.transaction() as conn:
        row = upsert.find(conn, workspace_id, contact_id)
        if row.erased_at is not None:
            raise InvalidInput(
                f"contact {contact_id} was erased; consent cannot be recorded for it",
                [FieldProblem("contact", "erased")],
            )
        consent.append(
            conn,
            [
                {
                    "workspace_id": workspace_id,
                    "contact_id": row.id,
                    "purpose": purpose,
                    "channel": channel,
                    "status": status,
                    "at": at or now,
                    "recorded_at": now,
                    "source": source,
                    "proof_kind": proof_kind,
                    "proof_ref": ref,
                }
            ],
        )
        upsert.touch(conn, row.id, now)
        state = consent.latest(conn, workspace_id, row.id, (purpose, channel), now=now)
        versions = mirroring.versions(conn, workspace_id, [row.id], now=now)
    _mirror(events, workspace_id, clock, versions)
    assert state is not None
    return state


def current_consent(
    store: AppStore, workspace_id: str, contact_id: str, *, now: datetime
) -> list[ConsentState]:
    """The contact's consent per (purpose, channel) it has entries for, as of ``now``."""
    with store.reading() as conn:
        row = upsert.find(conn, workspace_id, contact_id)
        states = consent.current_states(conn, workspace_id, [row.id], now=now).get(row.id, {})
    return sorted(states.values(), key=lambda s: (s.purpose, s.channel))


def consent_history(store: AppStore, workspace_id: str, contact_id: str) -> list[ConsentEvent]:
    """The contact's consent ledger, oldest first."""
    with store.reading() as conn:
        row = upsert.find(conn, workspace_id, contact_id)
        return consent.history(conn, workspace_id, row.id)


def suppress(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    *,
    reason: SuppressionReason,
    clock: Clock,
    source: str,
    email: str | None = None,
    contact_id: str | None = None,
    channel: str | None = None,
) -> Suppression:
    """Put an address or a contact on the suppression list, at once; idempotent.

    An address is kept as its hash (it need not be a contact's); a contact's entry also
    names its address's hash, so the entry outlives a change of address or an erasure.
    """
    problems = []
    if reason not in SUPPRESSION_REASONS or reason == "erased":
        allowed = ", ".join(r for r in SUPPRESSION_REASONS if r != "erased")
        problems.append(FieldProblem("reason", f"must be one of {allowed}"))
    if channel is not None and channel not in CHANNELS:
        problems.append(FieldProblem("channel", f"must be one of {', '.join(CHANNELS)}"))
    if (email is None) == (contact_id is None):
        problems.append(FieldProblem("email", "give exactly one of email or contact_id"))
    hashed = None
    if email is not None:
        try:
            hashed = normalise.email_hash(_email(email))
        except InvalidInput as error:
            problems.extend(error.problems)
    source = _text("source", source, MAX_SOURCE, problems) or "unknown"
    if problems:
        raise InvalidInput(f"{problems[0].path}: {problems[0].problem}", problems)
    now = clock.now()
    with store.transaction() as conn:
        if contact_id is not None:
            row = upsert.find(conn, workspace_id, contact_id)
            hashed, touched = row.email_hash, [row.id]
        else:
            touched = list(
                conn.execute(
                    select(contacts.c.id).where(
                        contacts.c.workspace_id == workspace_id, contacts.c.email_hash == hashed
                    )
                ).scalars()
            )
        entry = suppression.add(
            conn,
            workspace_id,
            contact_id=touched[0] if touched else None,
            email_hash=hashed,
            channel=channel,
            reason=reason,
            source=source,
            now=now,
        )
        for touched_id in touched:
            upsert.touch(conn, touched_id, now)
        versions = mirroring.versions(conn, workspace_id, touched, now=now)
    _mirror(events, workspace_id, clock, versions)
    return entry


def lift_suppression(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    suppression_id: int,
    *,
    clock: Clock,
) -> Suppression:
    """End a suppression entry (a manual one set by mistake, a re-subscription after an
    unsubscribe); an erasure's entry cannot be lifted."""
    now = clock.now()
    with store.transaction() as conn:
        row = suppression.lift(conn, workspace_id, suppression_id, now=now)
        if row is None:
            raise NotFound("suppression", str(suppression_id))
        if row.reason == "erased":
            raise InvalidInput(
                "an erasure's suppression cannot be lifted",
                [FieldProblem("reason", "erased")],
            )
        touched = [row.contact_id] if row.contact_id else []
        if row.email_hash is not None:
            touched += conn.execute(
                select(contacts.c.id).where(
                    contacts.c.workspace_id == workspace_id,
                    contacts.c.email_hash == row.email_hash,
                )
            ).scalars()
        touched = list(dict.fromkeys(touched))
        for touched_id in touched:
            upsert.touch(conn, touched_id, now)
        versions = mirroring.versions(conn, workspace_id, touched, now=now)
        entry = suppression.to_suppression(row)
    _mirror(events, workspace_id, clock, versions)
    return entry


def is_suppressed(
    store: AppStore,
    workspace_id: str,
    *,
    now: datetime,
    email: str | None = None,
    contact_id: str | None = None,
    channel: str | None = None,
) -> Suppression | None:
    """The entry in force that suppresses this address or contact (on ``channel``), or None."""
    hashed = normalise.email_hash(_email(email)) if email is not None else None
    with store.reading() as conn:
        if contact_id is not None and hashed is None:
            row = conn.execute(
                select(contacts.c.email_hash).where(
                    contacts.c.workspace_id == workspace_id, contacts.c.id == contact_id
                )
            ).first()
            hashed = row.email_hash if row is not None else None
        return suppression.in_force(
            conn,
            workspace_id,
            contact_id=contact_id,
            email_hash=hashed,
            channel=channel,
            now=now,
        )


def suppressions_of(store: AppStore, workspace_id: str, contact_id: str) -> list[Suppression]:
    """Every suppression entry naming the contact or its address, lifted ones too."""
    with store.reading() as conn:
        row = upsert.find(conn, workspace_id, contact_id)
        return suppression.of_contact(conn, workspace_id, row.id, row.email_hash)


def can_contact(
    store: AppStore,
    workspace_id: str,
    contact_id: str,
    purpose: str,
    channel: str,
    *,
    now: datetime,
) -> Decision:
    """Whether the contact may be reached for ``purpose`` on ``channel`` now: checked at send.

    No when the contact is unknown or erased, when an entry of the suppression list is in
    force for it or its address (on that channel or all), when it has no address for the
    channel, when its consent for the pair is withdrawn or was never given.
    """
    return can_contact_many(store, workspace_id, [contact_id], purpose, channel, now=now)[
        contact_id
    ]


_ADDRESS: Final = {"email": "email", "sms": "phone", "phone": "phone"}


# Built once: the sender checks every group of recipients with it just before sending.
_REACHABLE: Final = select(
    contacts.c.id, contacts.c.email_hash, contacts.c.erased_at, contacts.c.email, contacts.c.phone
).where(
    contacts.c.workspace_id == bindparam("workspace_id"),
    contacts.c.id.in_(bindparam("ids", expanding=True)),
)


def can_contact_many(
    store: AppStore,
    workspace_id: str,
    contact_ids: Sequence[str],
    purpose: str,
    channel: str,
    *,
    now: datetime,
) -> dict[str, Decision]:
    """``can_contact`` for many contacts at once, in a few queries per 900 contacts."""
    pair = _pair(f"{purpose}:{channel}")
    ids = list(dict.fromkeys(contact_ids))
    decisions = dict.fromkeys(ids, Decision(False, "unknown_contact", "no such contact"))
    address = _ADDRESS.get(channel)
    with store.reading() as conn:
        rows: list[Any] = []
        for part in consent.chunks(ids):
            rows.extend(conn.execute(_REACHABLE, {"workspace_id": workspace_id, "ids": list(part)}))
        live = [row for row in rows if row.erased_at is None]
        by_contact, by_hash = suppression.in_force_for(
            conn,
            workspace_id,
            contact_ids=[row.id for row in live],
            email_hashes=[row.email_hash for row in live if row.email_hash],
            channel=channel,
            now=now,
        )
        states = consent.current_states(conn, workspace_id, [row.id for row in live], now=now)
    for row in rows:
        entry = by_contact.get(row.id) or by_hash.get(row.email_hash or "")
        decisions[row.id] = _decide(row, address, entry, states.get(row.id, {}).get(pair), pair)
    return decisions


def _decide(
    row: Any,
    address: str | None,
    entry: Suppression | None,
    state: ConsentState | None,
    pair: tuple[str, str],
) -> Decision:
    if row.erased_at is not None:
        return Decision(False, "erased", "erased on request")
    if entry is not None:
        where = f" on {entry.channel}" if entry.channel else ""
        return Decision(False, "suppressed", f"suppressed{where}: {entry.reason} ({entry.source})")
    if address is not None and getattr(row, address) is None:
        return Decision(False, "no_address", f"no {address} to reach the contact on")
    if state is None:
        return Decision(False, "no_consent", f"no consent recorded for {pair[0]}:{pair[1]}")
    if not state.granted:
        return Decision(
            False, "consent_withdrawn", f"withdrawn {state.since.isoformat()} ({state.source})"
        )
    return Decision(True, "consent_granted", f"granted {state.since.isoformat()} ({state.source})")


def resync_mirror(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    *,
    clock: Clock,
    contact_ids: Sequence[str] | None = None,
    batch_size: int = 5000,
) -> int:
    """Append a fresh mirror version of these contacts (default: all); the count written.

    For after a failed mirror write: the app store is the truth, the mirror follows it.
    """
    stamp: datetime | None = None
    written = 0
    if contact_ids is None:
        with store.reading() as conn:
            ids = list(
                conn.execute(
                    select(contacts.c.id)
                    .where(contacts.c.workspace_id == workspace_id)
                    .order_by(contacts.c.id)
                ).scalars()
            )
    else:
        ids = list(contact_ids)
    for start in range(0, len(ids), batch_size):
        with store.reading() as conn:
            versions = mirroring.versions(
                conn, workspace_id, ids[start : start + batch_size], now=clock.now()
            )
        stamp = mirroring.next_stamp(events, workspace_id, clock, after=stamp)
        mirroring.append(events, versions, stamp)
        written += len(versions)
    return written


def _mirror(
    events: EventStore, workspace_id: str, clock: Clock, versions: list[dict[str, Any]]
) -> None:
    if versions:
        mirroring.append(events, versions, mirroring.next_stamp(events, workspace_id, clock))


def _pair(text: str) -> tuple[str, str]:
    try:
        return parse_pair(text)
    except ValueError as error:
        raise InvalidInput(str(error), [FieldProblem("consent", str(error))]) from None


def _email(value: str) -> str:
    try:
        email = normalise.email(value)
    except ValueError as error:
        raise InvalidInput(f"email: {error}", [FieldProblem("email", str(error))]) from None
    if email is None:
        raise InvalidInput("email: is empty", [FieldProblem("email", "is empty")])
    return email


def _text(name: str, value: str | None, limit: int, problems: list[FieldProblem]) -> str | None:
    if value is None:
        return None
    try:
        return normalise.text(value, limit)
    except ValueError as error:
        problems.append(FieldProblem(name, str(error)))
        return None
