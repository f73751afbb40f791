"""The one place analytics scopes the event store to a workspace: every source starts here."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from clarion.audiences.mirror import current_contacts
from clarion.stores.events import EventStore
from clarion.tracking.identity import stitched_events
from clarion.tracking.spend.current import current_spend


@dataclass(frozen=True)
class Scoped:
    """The tables of one workspace as analytics reads them (never the raw, unscoped tables)."""

    workspace_id: str
    events: ibis.Table  # as captured: contact_id only if the event named one
    stitched: ibis.Table  # identity-stitched: anonymous events count for their linked contact
    sends: ibis.Table
    spend: ibis.Table  # the newest import of each spend row key
    contacts: ibis.Table  # the current mirror version of each contact, erased ones left out
    contact_versions: ibis.Table  # every mirror version, for stage histories


def scoped(store: EventStore, workspace_id: str) -> Scoped:
    """The workspace's tables. Analytics code takes a ``Scoped``, never an ``EventStore``."""
    events, sends = store.table("events"), store.table("message_sends")
    versions = store.table("contacts")
    return Scoped(
        workspace_id=workspace_id,
        events=events.filter(events.workspace_id == workspace_id),
        stitched=stitched_events(store, workspace_id),
        sends=sends.filter(sends.workspace_id == workspace_id),
        spend=current_spend(store, workspace_id),
        contacts=current_contacts(store, workspace_id),
        contact_versions=versions.filter(versions.workspace_id == workspace_id),
    )
