"""Ad spend as it stands: of the rows sharing a row key, those of the newest import count."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

import ibis

from clarion.core.clock import Clock
from clarion.stores.events import EventStore

# What one spend row is about. Two imports that report the same key report the same thing,
# so the newer one replaces the older (the store is append-only: replacement happens here,
# at read time, the way the contacts mirror keeps the newest version of a contact).
ROW_KEY: Final = (
    "workspace_id",
    "day",
    "channel",
    "campaign_id",
    "ad_set",
    "audience",
    "creative_id",
)


def current_spend(events: EventStore, workspace_id: str) -> ibis.Table:
    """The workspace's ``ad_spend`` rows that count: per row key, the newest import's rows."""
    table = events.table("ad_spend")
    table = table.filter(table.workspace_id == workspace_id)
    newest = table.imported_at.max().over(group_by=list(ROW_KEY))
    ranked = table.mutate(_newest_import=newest)
    return ranked.filter(ranked.imported_at == ranked._newest_import).drop("_newest_import")


def next_import_stamp(events: EventStore, workspace_id: str, clock: Clock) -> datetime:
    """``imported_at`` for a new import: now, or just after the newest import if that is later.

    All rows of one import share the stamp, which is what makes them one version; a clock
    that has not moved past the last import (a simulated one) must still yield a newer one.
    """
    table = events.table("ad_spend")
    latest = table.filter(table.workspace_id == workspace_id).imported_at.max().to_pyarrow()
    now = clock.now()
    newest: datetime | None = latest.as_py()
    if newest is not None and newest >= now:
        return newest + timedelta(microseconds=1)
    return now
