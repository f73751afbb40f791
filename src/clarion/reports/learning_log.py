"""The workspace learning log: a report's learnings kept for the next campaign's plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select

from clarion.core.clock import Clock
from clarion.core.ids import IdSource
from clarion.reports.contracts import Learning
from clarion.reports.tables import learning_log
from clarion.stores.app import AppStore


@dataclass(frozen=True)
class LoggedLearning:
    """A learning as kept in the log, with the campaign it came from."""

    id: str
    campaign_id: str
    key: str
    text: str
    evidence: tuple[str, ...]
    recorded_at: datetime


def record(
    store: AppStore,
    workspace_id: str,
    campaign_id: str,
    found: Sequence[Learning],
    *,
    clock: Clock,
    ids: IdSource,
) -> int:
    """Replace the campaign's learnings with ``found`` in one transaction; how many were kept.

    A report regenerated later (more data, a new verdict) replaces its earlier lessons instead
    of repeating or contradicting them.
    """
    now = clock.now()
    with store.transaction() as conn:
        conn.execute(delete(learning_log).where(learning_log.c.campaign_id == campaign_id))
        if found:
            conn.execute(
                insert(learning_log),
                [
                    {
                        "id": ids.new("lrn"),
                        "workspace_id": workspace_id,
                        "campaign_id": campaign_id,
                        "key": item.key,
                        "text": item.text,
                        "evidence": list(item.evidence),
                        "recorded_at": now,
                    }
                    for item in found
                ],
            )
    return len(found)


def entries(store: AppStore, workspace_id: str, limit: int = 200) -> list[LoggedLearning]:
    """The workspace's learnings, newest first: what the next plan starts from."""
    query = (
        select(learning_log)
        .where(learning_log.c.workspace_id == workspace_id)
        .order_by(learning_log.c.recorded_at.desc(), learning_log.c.key)
        .limit(limit)
    )
    with store.reading() as conn:
        return [
            LoggedLearning(r.id, r.campaign_id, r.key, r.text, tuple(r.evidence), r.recorded_at)
            for r in conn.execute(query)
        ]
