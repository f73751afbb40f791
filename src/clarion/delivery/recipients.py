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


def refusals(
    store: AppStore,
    workspace_id: str,
    contact_ids: Sequence[str],
    *,
    now: datetime,
    cap: int,
    cap_days: int,
) -> dict[str, str]:
    """Why each contact that must not get this email now must not: consent, suppression,
    erasure, no address (``can_contact_many``) and the frequency cap across campaigns."""
    decisions = audiences.can_contact_many(
        store, workspace_id, contact_ids, PURPOSE, CHANNEL, now=now
    )
    refused = {cid: f"{d.reason}: {d.detail}" for cid, d in decisions.items() if not d.allowed}
    allowed = [cid for cid in contact_ids if cid not in refused]
    if cap and allowed:
        with store.reading() as conn:
            counts = outbox.sent_counts(
                conn, workspace_id, allowed, since=now - timedelta(days=cap_days)
            )
        for cid, count in counts.items():
            if count >= cap:
                refused[cid] = f"frequency_cap: {count} marketing emails in {cap_days} days"
    return refused


def load(
    store: AppStore, workspace_id: str, contact_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The unmasked fields and attributes of these contacts, by id (what a renderer reads)."""
    columns = [contacts.c[name] for name in _FIELDS]
    found: dict[str, dict[str, Any]] = {}
    with store.reading() as conn:
        for start in range(0, len(contact_ids), 900):
            part = contact_ids[start : start + 900]
            for row in conn.execute(
                select(*columns).where(
                    contacts.c.workspace_id == workspace_id, contacts.c.id.in_(part)
                )
            ):
                found[row.id] = dict(row._mapping)
    return found


def check_and_load(
    store: AppStore,
    workspace_id: str,
    contact_ids: Sequence[str],
    *,
    now: datetime,
    cap: int,
    cap_days: int,
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """``refusals`` of these contacts, and the fields (``load``) of the others."""
    refused = refusals(store, workspace_id, contact_ids, now=now, cap=cap, cap_days=cap_days)
    return refused, load(store, workspace_id, [c for c in contact_ids if c not in refused])
