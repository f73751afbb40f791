"""Identity stitching at query time: anonymous events count for the contact they were linked to."""

from __future__ import annotations

import ibis

from clarion.stores.events import EventStore


def stitched_events(store: EventStore, workspace_id: str) -> ibis.Table:
    """The workspace's events with ``contact_id`` filled from the identity map.

    The newest link of an anonymous id wins, and it applies to that id's earlier events too:
    a visitor who browses anonymously and then signs up gets credit for the whole visit.
    """
    events = store.table("events").filter(lambda t: t.workspace_id == workspace_id)
    links = store.table("identities").filter(lambda t: t.workspace_id == workspace_id)
    latest = (
        links.mutate(
            rank=ibis.row_number().over(
                group_by=links.anonymous_id, order_by=ibis.desc(links.linked_at)
            )
        )
        .filter(lambda t: t.rank == 0)
        .select(link_anonymous_id="anonymous_id", linked_contact_id="contact_id")
    )
    joined = events.left_join(latest, events.anonymous_id == latest.link_anonymous_id)
    return joined.mutate(
        contact_id=ibis.coalesce(joined.contact_id, joined.linked_contact_id)
    ).drop("link_anonymous_id", "linked_contact_id")
