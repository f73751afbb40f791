"""The consent ledger: append entries, read a contact's history, derive the current state."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, bindparam, select

from clarion.audiences.contracts import ConsentEvent, ConsentState
from clarion.audiences.tables import consent_events
from clarion.stores.app.bulk import insert_many

CHUNK: Final = 900  # ids per IN (...) list: far below SQLite's and PostgreSQL's limits

Pair = tuple[str, str]  # (purpose, channel)


def chunks(values: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    """``values`` in slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def to_event(row: Any) -> ConsentEvent:
    return ConsentEvent(
        id=row.id,
        contact_id=row.contact_id,
        purpose=row.purpose,
        channel=row.channel,
        status=row.status,
        at=row.at,
        recorded_at=row.recorded_at,
        source=row.source,
        proof_kind=row.proof_kind,
        proof_ref=row.proof_ref,
    )


def append(conn: Connection, entries: list[dict[str, Any]]) -> None:
    """Add ledger entries (dicts of ``consent_events`` columns, ``id`` left out)."""
    insert_many(conn, consent_events, entries)


# Built once: the sender runs it for every group of recipients, and building it per call
# (64 ids coerced one by one) cost as much as running it.
_CURRENT: Final = (
    select(
        consent_events.c.contact_id,
        consent_events.c.purpose,
        consent_events.c.channel,
        consent_events.c.status,
        consent_events.c.at,
        consent_events.c.source,
    )
    .where(
        consent_events.c.workspace_id == bindparam("workspace_id"),
        consent_events.c.contact_id.in_(bindparam("contact_ids", expanding=True)),
        consent_events.c.at <= bindparam("now"),
    )
    .order_by(consent_events.c.at, consent_events.c.id)
)


def current_states(
    conn: Connection, workspace_id: str, contact_ids: Sequence[str], *, now: datetime
) -> dict[str, dict[Pair, ConsentState]]:
    """Per contact, the state of each (purpose, channel) it has entries for, as of ``now``.

    The newest entry by ``(at, id)`` decides; entries dated after ``now`` do not count yet.
    """
    states: dict[str, dict[Pair, ConsentState]] = {}
    for part in chunks(list(contact_ids)):
        rows = conn.execute(
            _CURRENT, {"workspace_id": workspace_id, "contact_ids": list(part), "now": now}
        )
        for row in rows:
            states.setdefault(row.contact_id, {})[(row.purpose, row.channel)] = ConsentState(
                purpose=row.purpose,
                channel=row.channel,
                status=row.status,
                since=row.at,
                source=row.source,
            )
    return states


def latest(
    conn: Connection, workspace_id: str, contact_id: str, pair: Pair, *, now: datetime
) -> ConsentState | None:
    """The current state of one (purpose, channel) of one contact: one indexed lookup."""
    purpose, channel = pair
    row = conn.execute(
        select(consent_events.c.status, consent_events.c.at, consent_events.c.source)
        .where(
            consent_events.c.contact_id == contact_id,
            consent_events.c.purpose == purpose,
            consent_events.c.channel == channel,
            consent_events.c.workspace_id == workspace_id,
            consent_events.c.at <= now,
        )
        .order_by(consent_events.c.at.desc(), consent_events.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return ConsentState(purpose, channel, row.status, row.at, row.source)


def history(conn: Connection, workspace_id: str, contact_id: str) -> list[ConsentEvent]:
    """Every ledger entry of a contact, oldest first."""
    rows = conn.execute(
        select(consent_events)
        .where(
            consent_events.c.workspace_id == workspace_id,
            consent_events.c.contact_id == contact_id,
        )
        .order_by(consent_events.c.at, consent_events.c.id)
    )
    return [to_event(row) for row in rows]


def granted_pairs(states: Iterable[ConsentState]) -> list[str]:
    """The granted ``purpose:channel`` pairs, sorted (what the mirror's ``consents`` holds)."""
    return sorted(state.pair for state in states if state.granted)
