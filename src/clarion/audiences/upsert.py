"""Contacts in the app store: read one, and upsert a batch matched by external id or email."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import Connection, bindparam, select, update

from clarion.audiences import consent, mirroring, suppression
from clarion.audiences.consent import Pair, chunks
from clarion.audiences.contracts import CONTACT_FIELDS, ConsentState, Contact, ItemProblem
from clarion.audiences.records import ContactRecord
from clarion.audiences.tables import contacts
from clarion.core.errors import NotFound
from clarion.core.ids import IdSource
from clarion.stores.app.bulk import insert_many

Action = Literal["created", "updated", "unchanged", "merged"]
STORED: Final = (*CONTACT_FIELDS, "email_hash")  # the columns a record can set
_UPDATE = (
    update(contacts)
    .where(contacts.c.id == bindparam("v_id"))
    .values({name: bindparam(f"v_{name}") for name in (*STORED, "attributes", "updated_at")})
)


def to_contact(row: Any) -> Contact:
    return Contact(
        id=row.id,
        workspace_id=row.workspace_id,
        external_id=row.external_id,
        email=row.email,
        email_hash=row.email_hash,
        phone=row.phone,
        first_name=row.first_name,
        last_name=row.last_name,
        address_line1=row.address_line1,
        address_line2=row.address_line2,
        postal_code=row.postal_code,
        city=row.city,
        region=row.region,
        country=row.country,
        persona=row.persona,
        lifecycle_stage=row.lifecycle_stage,
        attributes=dict(row.attributes or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
        erased_at=row.erased_at,
    )


def find(conn: Connection, workspace_id: str, contact_id: str) -> Any:
    """The contact's row; NotFound if it is not a contact of this workspace."""
    row = conn.execute(
        select(contacts).where(contacts.c.workspace_id == workspace_id, contacts.c.id == contact_id)
    ).first()
    if row is None:
        raise NotFound("contact", contact_id[:64])
    return row


def find_by(conn: Connection, workspace_id: str, column: str, value: str) -> Any:
    """The contact with this email or external id, or None."""
    return conn.execute(
        select(contacts).where(contacts.c.workspace_id == workspace_id, contacts.c[column] == value)
    ).first()


def touch(conn: Connection, contact_id: str, now: datetime) -> None:
    """Mark a contact changed (its consents or suppressions did)."""
    conn.execute(update(contacts).where(contacts.c.id == contact_id).values(updated_at=now))


@dataclass(frozen=True)
class Item:
    """One checked contact to upsert and where it came from (API index or file row)."""

    index: int
    record: ContactRecord


@dataclass
class BatchOutcome:
    """What ``upsert_batch`` did."""

    stored: list[tuple[int, str, Action]] = field(default_factory=list)
    rejected: list[ItemProblem] = field(default_factory=list)
    consents: int = 0
    touched: list[str] = field(default_factory=list)  # contact ids written
    mirror: list[dict[str, Any]] = field(default_factory=list)  # their new mirror versions

    def count(self, action: Action) -> int:
        return sum(1 for _, _, done in self.stored if done == action)


@dataclass
class _Group:
    """Items of one batch that name the same contact, merged in order (the later wins)."""

    indexes: list[int]
    record: ContactRecord


ProofRef = Callable[[int], str | None]


def upsert_batch(
    conn: Connection,
    workspace_id: str,
    items: Sequence[Item],
    *,
    now: datetime,
    ids: IdSource,
    source: str,
    proof_kind: str,
    proof_ref: ProofRef | None = None,
    started: datetime | None = None,
    label: str = "item",
) -> BatchOutcome:
    """Create or update each item's contact, in one transaction the caller holds.

    An item is matched to a stored contact by external id, then by email; items of the batch
    that name the same contact are merged. Items whose keys point at two different contacts,
    and addresses erased on request, are rejected. ``started``, for an import, is the time
    every contact it writes gets: a match already at that time was written by this import,
    and the item is counted as ``merged``.
    """
    outcome = BatchOutcome()
    groups = _group(items, outcome, label)
    by_ext = _existing(conn, workspace_id, "external_id", [g.record.external_id for g in groups])
    by_email = _existing(conn, workspace_id, "email", [g.record.email for g in groups])
    hashes = [g.record.values["email_hash"] for g in groups if g.record.email]
    erased = suppression.erased_hashes(conn, workspace_id, hashes)
    targets = _targets(groups, by_ext, by_email, erased, outcome)
    known = [target.id for _, target in targets if target is not None]
    states = consent.current_states(conn, workspace_id, known, now=now)
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    written: dict[str, dict[str, Any]] = {}  # contact id -> its columns as written
    for group, target in targets:
        record = group.record
        if target is None:
            contact_id = ids.new("ct")
            inserts.append(_new_row(workspace_id, contact_id, record, now))
            written[contact_id] = inserts[-1]
            action: Action = "created"
        else:
            contact_id = target.id
            row = _updated_row(target, record)
            new_consents = _new_consents(record, states.get(contact_id, {}))
            if row is None and not new_consents:
                action = "unchanged"
            else:
                written[contact_id] = {
                    **(row or _full_row(target)),
                    "created_at": target.created_at,
                }
                updates.append(_bind(row or _full_row(target), contact_id, now))
                action = "updated"
            record.consents = new_consents
            if started is not None and target.updated_at == started:
                action = "merged"
        for item_index in group.indexes:
            outcome.stored.append((item_index, contact_id, action))
            action = "merged"  # the group's later items
        ref = proof_ref(group.indexes[-1]) if proof_ref else None
        entries += _entries(
            workspace_id, contact_id, record, now=now, source=source, kind=proof_kind, ref=ref
        )
    if updates:  # before inserts: an update may free an address a new contact takes
        conn.execute(_UPDATE, updates)
    insert_many(conn, contacts, inserts)
    consent.append(conn, entries)
    outcome.consents = len(entries)
    outcome.touched = list(written)
    outcome.mirror = _mirror(conn, workspace_id, written, states=states, entries=entries, now=now)
    outcome.stored.sort()
    return outcome


def _mirror(
    conn: Connection,
    workspace_id: str,
    written: dict[str, dict[str, Any]],
    *,
    states: dict[str, dict[Pair, ConsentState]],
    entries: list[dict[str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    """Mirror versions of the contacts just written, from what was written (no re-reading)."""
    if not written:
        return []
    status = {
        contact_id: {pair: (state.since, state.status) for pair, state in found.items()}
        for contact_id, found in states.items()
    }
    for entry in entries:
        pairs = status.setdefault(entry["contact_id"], {})
        pair = (entry["purpose"], entry["channel"])
        if entry["at"] <= now and (pair not in pairs or entry["at"] >= pairs[pair][0]):
            pairs[pair] = (entry["at"], entry["status"])
    hashes = [c["email_hash"] for c in written.values() if c["email_hash"]]
    by_contact, by_hash = suppression.in_force_for(
        conn, workspace_id, contact_ids=list(written), email_hashes=hashes, now=now
    )
    return [
        mirroring.version(
            workspace_id,
            contact_id,
            columns,
            consents=sorted(
                f"{p}:{c}"
                for (p, c), (_, s) in status.get(contact_id, {}).items()
                if s == "granted"
            ),
            suppressed=contact_id in by_contact or columns["email_hash"] in by_hash,
        )
        for contact_id, columns in written.items()
    ]


def _targets(
    groups: list[_Group],
    by_ext: dict[str, Any],
    by_email: dict[str, Any],
    erased: set[str],
    outcome: BatchOutcome,
) -> list[tuple[_Group, Any]]:
    """Each storable group with the contact it updates (None: new); the others rejected."""
    targets: list[tuple[_Group, Any]] = []
    for group in groups:
        target, problem = _target(group.record, by_ext, by_email, erased)
        if problem is not None:
            outcome.rejected.extend(ItemProblem(i, *problem) for i in group.indexes)
        else:
            targets.append((group, target))
    return targets


def _entries(
    workspace_id: str,
    contact_id: str,
    record: ContactRecord,
    *,
    now: datetime,
    source: str,
    kind: str,
    ref: str | None,
) -> list[dict[str, Any]]:
    return [
        {
            "workspace_id": workspace_id,
            "contact_id": contact_id,
            "purpose": wanted.purpose,
            "channel": wanted.channel,
            "status": wanted.status,
            "at": wanted.at or now,
            "recorded_at": now,
            "source": source,
            "proof_kind": wanted.proof_kind or kind,
            "proof_ref": wanted.proof_ref or ref,
        }
        for wanted in record.consents
    ]


def _group(items: Sequence[Item], outcome: BatchOutcome, label: str) -> list[_Group]:
    groups: list[_Group] = []
    by_ext: dict[str, _Group] = {}
    by_email: dict[str, _Group] = {}
    for item in items:
        record = item.record
        ext, email = record.external_id, record.email
        found_ext = by_ext.get(ext) if ext else None
        found_email = by_email.get(email) if email else None
        if found_ext is not None and found_email is not None and found_ext is not found_email:
            outcome.rejected.append(
                ItemProblem(
                    item.index,
                    "email",
                    f"is the email of {label} {found_email.indexes[0]}, whose external id differs",
                )
            )
            continue
        group = found_ext or found_email
        if group is None:
            # A copy: merging must not change the caller's records (a batch may be retried).
            copy = ContactRecord(dict(record.values), dict(record.attributes), [*record.consents])
            group = _Group([item.index], copy)
            groups.append(group)
        else:
            other = group.record.external_id
            if ext and other and other != ext:
                outcome.rejected.append(
                    ItemProblem(
                        item.index,
                        "external_id",
                        f"the email is that of {label} {group.indexes[0]}, with another external id",  # noqa: E501
                    )
                )
                continue
            group.indexes.append(item.index)
            group.record.merge(record)
        if ext:
            by_ext[ext] = group
        if email:
            by_email[email] = group
    return groups


def _existing(
    conn: Connection, workspace_id: str, column: str, values: Sequence[str | None]
) -> dict[str, Any]:
    wanted = [v for v in dict.fromkeys(values) if v is not None]
    found: dict[str, Any] = {}
    for part in chunks(wanted):
        rows = conn.execute(
            select(contacts).where(
                contacts.c.workspace_id == workspace_id, contacts.c[column].in_(part)
            )
        )
        found.update((getattr(row, column), row) for row in rows)
    return found


def _target(
    record: ContactRecord,
    by_ext: dict[str, Any],
    by_email: dict[str, Any],
    erased: set[str],
) -> tuple[Any, tuple[str, str] | None]:
    """The stored contact a record updates (None: a new one), or why it cannot be stored."""
    if record.email and record.values["email_hash"] in erased:
        return None, ("email", "this address was erased on request; it is not stored again")
    ext, email = record.external_id, record.email
    found_ext = by_ext.get(ext) if ext else None
    found_email = by_email.get(email) if email else None
    if found_ext is not None and found_email is not None and found_ext.id != found_email.id:
        return None, ("email", f"belongs to another contact ({found_email.id})")
    if found_ext is None and found_email is not None and ext and found_email.external_id:
        return None, (
            "external_id",
            f"the email belongs to contact {found_email.id}, whose external id differs",
        )
    return found_ext or found_email, None


def _new_row(
    workspace_id: str, contact_id: str, record: ContactRecord, now: datetime
) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(STORED)
    row.update(record.values)
    row.update(
        id=contact_id,
        workspace_id=workspace_id,
        attributes=record.attributes,
        created_at=now,
        updated_at=now,
        erased_at=None,
    )
    return row


def _full_row(target: Any) -> dict[str, Any]:
    row = {name: getattr(target, name) for name in STORED}
    row["attributes"] = dict(target.attributes or {})
    return row


def _updated_row(target: Any, record: ContactRecord) -> dict[str, Any] | None:
    """The target's columns with the record's values over them, or None if nothing changes."""
    changed = any(getattr(target, name) != value for name, value in record.values.items())
    attributes = dict(target.attributes or {})
    if record.attributes:
        merged = {**attributes, **record.attributes}
        changed = changed or merged != attributes
        attributes = merged
    if not changed:
        return None
    row = _full_row(target)
    row.update(record.values)
    row["attributes"] = attributes
    return row


def _bind(row: dict[str, Any], contact_id: str, now: datetime) -> dict[str, Any]:
    bound = {f"v_{name}": value for name, value in row.items()}
    bound.update(v_id=contact_id, v_updated_at=now)
    return bound


def _new_consents(record: ContactRecord, states: dict[Pair, ConsentState]) -> list[Any]:
    """The record's consents that change the contact's state (a re-import adds nothing)."""
    current = {pair: state.status for pair, state in states.items()}
    wanted = []
    for entry in record.consents:
        pair = (entry.purpose, entry.channel)
        if current.get(pair) == entry.status and entry.at is None:
            continue
        current[pair] = entry.status
        wanted.append(entry)
    return wanted
