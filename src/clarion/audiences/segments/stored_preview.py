"""Preview a stored segment: its size now and a sample of members as a role may see them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clarion.audiences import service as contacts
from clarion.audiences.segments.preview import preview
from clarion.audiences.segments.store import segment_rule
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore


def preview_stored(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    *,
    now: datetime,
    role: str = "admin",
    sample: int = 10,
) -> dict[str, Any]:
    """``{segment, version, count, sample}``: the sample's personal fields masked for ``role``."""
    segment, context = segment_rule(store, workspace_id, ref)
    found = preview(events, workspace_id, segment.rule, now=now, context=context, sample=sample)
    shown = contacts.contacts_as(store, workspace_id, found.sample_contact_ids, role=role)
    return {
        "segment": segment.key,
        "version": segment.version,
        "count": found.count,
        "sample": shown,
    }
