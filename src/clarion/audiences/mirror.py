"""The contact mirror in the event store: the current version of each contact, for joins."""

from __future__ import annotations

import ibis

from clarion.stores.events import EventStore


def current_contacts(store: EventStore, workspace_id: str) -> ibis.Table:
    """One row per contact of the workspace: its newest mirrored version, erased ones left out.

    The mirror is append-only (an update appends a version), so the newest ``updated_at`` wins.
    """
    versions = store.table("contacts").filter(lambda t: t.workspace_id == workspace_id)
    newest = versions.mutate(
        version=ibis.row_number().over(
            group_by=versions.contact_id, order_by=ibis.desc(versions.updated_at)
        )
    )
    current = newest.filter(newest.version == 0).drop("version")
    return current.filter(~current.erased.fill_null(False))
