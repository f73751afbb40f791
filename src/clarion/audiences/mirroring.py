"""Writing the contact mirror: a version per change, with no plaintext PII, stamped in order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from clarion.audiences import consent, suppression
from clarion.audiences.tables import contacts
from clarion.core.clock import Clock
from clarion.stores.events import EventStore

# What the mirror copies from the app store as is; everything personal stays behind.
_COPIED = (
    "email_hash",
    "country",
    "region",
    "city",
    "persona",
    "lifecycle_stage",
    "created_at",
    "attributes",
)


def next_stamp(
    events: EventStore, workspace_id: str, clock: Clock, after: datetime | None = None
) -> datetime:
    """``updated_at`` for the next versions: now, or just after the newest version if later.

    The newest version of a contact wins (``mirror.current_contacts``), so versions must be
    stamped in the order they are written even when a simulated clock stands still.
    """
    if after is None:
        table = events.table("contacts")
        newest: datetime | None = (
            table.filter(table.workspace_id == workspace_id).updated_at.max().to_pyarrow().as_py()
        )
    else:
        newest = after
    now = clock.now()
    if newest is not None and newest >= now:
        return newest + timedelta(microseconds=1)
    return now


def versions(
    conn: Connection, workspace_id: str, contact_ids: Sequence[str], *, now: datetime
) -> list[dict[str, Any]]:
    """Mirror rows for these contacts as the app store holds them now (erased ones bare)."""
    ids = list(dict.fromkeys(contact_ids))
    rows: list[Any] = []
    for part in consent.chunks(ids):
        rows.extend(
            conn.execute(
                select(
                    contacts.c.id, contacts.c.erased_at, *(contacts.c[c] for c in _COPIED)
                ).where(contacts.c.workspace_id == workspace_id, contacts.c.id.in_(part))
            )
        )
    states = consent.current_states(conn, workspace_id, ids, now=now)
    hashes = [row.email_hash for row in rows if row.email_hash is not None]
    by_contact, by_hash = suppression.in_force_for(
        conn, workspace_id, contact_ids=ids, email_hashes=hashes, now=now
    )
    return [
        version(
            workspace_id,
            row.id,
            row._mapping,
            consents=consent.granted_pairs(states.get(row.id, {}).values()),
            suppressed=row.id in by_contact or row.email_hash in by_hash,
            erased=row.erased_at is not None,
        )
        for row in rows
    ]


def version(
    workspace_id: str,
    contact_id: str,
    columns: Mapping[str, Any],
    *,
    consents: list[str],
    suppressed: bool,
    erased: bool = False,
) -> dict[str, Any]:
    """One mirror row: the copied columns, the granted pairs and the flags; erased ones bare."""
    row: dict[str, Any] = {column: columns[column] for column in _COPIED}
    row.update(
        workspace_id=workspace_id,
        contact_id=contact_id,
        consents=[] if erased else consents,
        suppressed=erased or suppressed,
        erased=erased,
    )
    if erased:  # nothing that could single the person out, not even the hash
        row.update(email_hash=None, city=None, region=None, attributes=None)
    return row


def append(events: EventStore, rows: list[dict[str, Any]], stamp: datetime) -> None:
    """Append versions, all stamped ``stamp``."""
    if rows:
        events.append("contacts", [{**row, "updated_at": stamp} for row in rows])
