"""Materialised segment membership: refresh records who entered and left; read who is in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from clarion.audiences.segments.compile import segment_contacts
from clarion.audiences.segments.store import mark_refreshed, segment_rule
from clarion.core.errors import Conflict, FieldProblem, InvalidInput
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

_TABLE = "segment_transitions"
_INSTANT = "timestamp('UTC')"
MAX_LISTED = 10_000


@dataclass(frozen=True)
class Refresh:
    """What one refresh of a segment found at ``at``."""

    segment_key: str
    segment_version: int
    at: datetime
    entered: int
    exited: int
    members: int


@dataclass(frozen=True)
class Transition:
    """A contact entering or leaving a segment at a refresh instant."""

    contact_id: str
    change: str  # entered | exited
    ts: datetime


def _states(events: EventStore, workspace_id: str, segment_id: str, now: datetime) -> ir.Table:
    """Each contact's newest transition of the segment at or before ``now``."""
    t = events.table(_TABLE).filter(
        lambda t: (
            (t.workspace_id == workspace_id)
            & (t.segment_id == segment_id)
            & (t.ts <= ibis.literal(now, type=_INSTANT))
        )
    )
    ranked = t.mutate(
        rank=ibis.row_number().over(
            group_by=t.contact_id, order_by=[ibis.desc(t.ts), ibis.desc(t.recorded_at)]
        )
    )
    return ranked.filter(ranked.rank == 0).drop("rank")


def _members_at(events: EventStore, workspace_id: str, segment_id: str, now: datetime) -> ir.Table:
    states = _states(events, workspace_id, segment_id, now)
    return states.filter(states.change == "entered")


def refresh_segment(
    store: AppStore, events: EventStore, workspace_id: str, ref: str, *, now: datetime
) -> Refresh:
    """Evaluate the stored segment at ``now`` and record the contacts that entered or left
    since the last refresh. Refreshing twice at one instant records nothing the second time;
    an instant before the last refresh is refused (history is append-only)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    segment, context = segment_rule(store, workspace_id, ref)
    if segment.refreshed_at is not None and now < segment.refreshed_at:
        raise Conflict(
            f"segment {segment.key!r} was refreshed at {segment.refreshed_at.isoformat()}; "
            f"cannot refresh it as of the earlier {now.isoformat()}",
            {"refreshed_at": segment.refreshed_at.isoformat()},
        )
    events.create_schema()  # a store made before membership existed gains its table here
    found = segment_contacts(events, workspace_id, segment.rule, now=now, context=context)
    found = found.select(found.contact_id)
    current = _members_at(events, workspace_id, segment.id, now).select("contact_id")
    before = int(current.count().to_pyarrow().as_py())
    entered = _ids(found.anti_join(current, "contact_id"))
    exited = _ids(current.anti_join(found, "contact_id"))
    rows: list[dict[str, Any]] = [
        {
            "workspace_id": workspace_id,
            "segment_id": segment.id,
            "contact_id": contact_id,
            "change": change,
            "ts": now,
            "segment_version": segment.version,
        }
        for change, ids in (("entered", entered), ("exited", exited))
        for contact_id in ids
    ]
    if rows:
        events.append(_TABLE, rows)
    with store.transaction() as conn:
        mark_refreshed(conn, segment.id, now)
    members = before + len(entered) - len(exited)  # not a second evaluation of the segment
    return Refresh(segment.key, segment.version, now, len(entered), len(exited), members)


def _ids(table: ir.Table) -> list[str]:
    column: pa.ChunkedArray = table.order_by("contact_id").to_pyarrow().column("contact_id")
    ids: list[str] = column.to_pylist()
    return ids


def current_members(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    *,
    now: datetime,
    limit: int = 1000,
) -> tuple[int, list[tuple[str, datetime]]]:
    """The materialised members at ``now`` (as of the refreshes up to then): their count and up
    to ``limit`` of them by contact id, each with when it last entered."""
    _check_limit(limit)
    segment, _ = segment_rule(store, workspace_id, ref)
    events.create_schema()
    members = _members_at(events, workspace_id, segment.id, now)
    count = int(members.count().to_pyarrow().as_py())
    rows = members.select("contact_id", "ts").order_by("contact_id").limit(limit).to_pyarrow()
    return count, list(zip(rows.column(0).to_pylist(), rows.column(1).to_pylist(), strict=True))


def transitions(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    *,
    since: datetime | None = None,
    limit: int = 1000,
) -> list[Transition]:
    """The segment's entries and exits, oldest first, after ``since`` when given: what a
    journey triggered on entry reads."""
    _check_limit(limit)
    segment, _ = segment_rule(store, workspace_id, ref)
    events.create_schema()
    t = events.table(_TABLE).filter(
        lambda t: (t.workspace_id == workspace_id) & (t.segment_id == segment.id)
    )
    if since is not None:
        t = t.filter(t.ts > ibis.literal(since, type=_INSTANT))
    rows = (
        t.select("contact_id", "change", "ts")
        .order_by(["ts", "change", "contact_id"])
        .limit(limit)
        .to_pyarrow()
        .to_pylist()
    )
    return [Transition(row["contact_id"], row["change"], row["ts"]) for row in rows]


def _check_limit(limit: int) -> None:
    if not 0 <= limit <= MAX_LISTED:
        problem = f"must be between 0 and {MAX_LISTED}"
        raise InvalidInput(f"limit {problem}", [FieldProblem("limit", problem)])
