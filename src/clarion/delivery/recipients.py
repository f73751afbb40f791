"""Read a chunk of recipients for rendering, and check whether each may be sent to now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from clarion.audiences import service as audiences
from clarion.audiences.contracts import PERSONAL_FIELDS
from clarion.audiences.tables import contacts
from clarion.delivery import outbox
from clarion.stores.app import AppStore

PURPOSE = "marketing"
CHANNEL = "email"
_FIELDS = (
    "id",
    "external_id",
    *PERSONAL_FIELDS,
    "city",
    "region",
    "country",
    "persona",
    "lifecycle_stage",
    "attributes",
)


def check_and_load(
    store: AppStore,
    workspace_id: str,
    contact_ids: Sequence[str],
    *,
    now: datetime,
    cap: int,
    cap_days: int,
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Why each contact that must not get this email now must not — consent, suppression,
    erasure, no address (``can_contact_many``), the frequency cap across campaigns — and the
    unmasked fields and attributes of the others, by id (what a renderer reads)."""
    decisions = audiences.can_contact_many(
        store, workspace_id, contact_ids, PURPOSE, CHANNEL, now=now
    )
    refused = {cid: f"{d.reason}: {d.detail}" for cid, d in decisions.items() if not d.allowed}
    allowed = [cid for cid in contact_ids if cid not in refused]
    columns = [contacts.c[name] for name in _FIELDS]
    found: dict[str, dict[str, Any]] = {}
    with store.reading() as conn:
        if cap and allowed:
            counts = outbox.sent_counts(
                conn, workspace_id, allowed, since=now - timedelta(days=cap_days)
            )
            for cid, count in counts.items():
                if count >= cap:
                    refused[cid] = f"frequency_cap: {count} marketing emails in {cap_days} days"
            allowed = [cid for cid in allowed if cid not in refused]
        for start in range(0, len(allowed), 900):
            part = allowed[start : start + 900]
            for row in conn.execute(
                select(*columns).where(
                    contacts.c.workspace_id == workspace_id, contacts.c.id.in_(part)
                )
            ):
                found[row.id] = dict(row._mapping)
    return refused, found
