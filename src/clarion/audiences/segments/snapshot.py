"""The audience of a stored segment at one instant: what a send snapshots before it queues."""

from __future__ import annotations

from datetime import datetime

from clarion.audiences.segments.compile import segment_contacts
from clarion.audiences.segments.store import segment_rule
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore


def segment_members(
    store: AppStore, events: EventStore, workspace_id: str, key: str, *, now: datetime
) -> list[str]:
    """The contact ids of stored segment ``key`` (or id) at ``now``, sorted; NotFound if there
    is no such segment. Consent and suppression are not applied: check them at send time
    (``audiences.service.can_contact_many``)."""
    segment, context = segment_rule(store, workspace_id, key)
    members = segment_contacts(events, workspace_id, segment.rule, now=now, context=context)
    ids: list[str] = (
        members.select("contact_id").order_by("contact_id").to_pyarrow().column(0).to_pylist()
    )
    return ids
