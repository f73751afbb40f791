"""The suppression list: who must not be contacted, whatever their consent says."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, insert, or_, select, update
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from clarion.audiences.consent import chunks
from clarion.audiences.contracts import Suppression, SuppressionReason
from clarion.audiences.tables import suppressions


def to_suppression(row: Any) -> Suppression:
    return Suppression(
        id=row.id,
        workspace_id=row.workspace_id,
        contact_id=row.contact_id,
        email_hash=row.email_hash,
        channel=row.channel,
        reason=row.reason,
        source=row.source,
        created_at=row.created_at,
        lifted_at=row.lifted_at,
    )


def _in_force(
    now: datetime | BindParameter[datetime], channel: str | BindParameter[str] | None
) -> ColumnElement[bool]:
    condition = and_(
        suppressions.c.created_at <= now,
        or_(suppressions.c.lifted_at.is_(None), suppressions.c.lifted_at > now),
    )
    if channel is not None:  # an entry for one channel blocks that channel only
        condition = and_(
            condition, or_(suppressions.c.channel.is_(None), suppressions.c.channel == channel)
        )
    return condition


def add(
    conn: Connection,
    workspace_id: str,
    *,
    contact_id: str | None,
    email_hash: str | None,
    channel: str | None,
    reason: SuppressionReason,
    source: str,
    now: datetime,
) -> Suppression:
    """A new entry; one equal to an entry in force (same target, channel, reason) is reused."""
    assert contact_id is not None or email_hash is not None
    existing = conn.execute(
        select(suppressions).where(
            suppressions.c.workspace_id == workspace_id,
            suppressions.c.reason == reason,
            suppressions.c.lifted_at.is_(None),
            suppressions.c.contact_id.is_(None)
            if contact_id is None
            else suppressions.c.contact_id == contact_id,
            suppressions.c.email_hash.is_(None)
            if email_hash is None
            else suppressions.c.email_hash == email_hash,
            suppressions.c.channel.is_(None)
            if channel is None
            else suppressions.c.channel == channel,
        )
    ).first()
    if existing is not None:
        return to_suppression(existing)
    new_id = conn.execute(
        insert(suppressions)
        .values(
            workspace_id=workspace_id,
            contact_id=contact_id,
            email_hash=email_hash,
            channel=channel,
            reason=reason,
            source=source,
            created_at=now,
        )
        .returning(suppressions.c.id)
    ).scalar_one()
    row = conn.execute(select(suppressions).where(suppressions.c.id == new_id)).one()
    return to_suppression(row)


def in_force(
    conn: Connection,
    workspace_id: str,
    *,
    contact_id: str | None = None,
    email_hash: str | None = None,
    channel: str | None = None,
    now: datetime,
) -> Suppression | None:
    """The first entry in force for the contact or the address (on ``channel``), if any."""
    targets = []
    if contact_id is not None:
        targets.append(suppressions.c.contact_id == contact_id)
    if email_hash is not None:
        targets.append(suppressions.c.email_hash == email_hash)
    if not targets:
        return None
    row = conn.execute(
        select(suppressions)
        .where(suppressions.c.workspace_id == workspace_id, or_(*targets), _in_force(now, channel))
        .order_by(suppressions.c.id)
        .limit(1)
    ).first()
    return None if row is None else to_suppression(row)


@functools.cache
def _in_force_by(column: str, on_channel: bool) -> Select[Any]:
    """The entries in force for a list of contact ids or email hashes, built once per kind:
    the sender runs it for every group of recipients."""
    now = bindparam("now", type_=suppressions.c.created_at.type)
    condition = _in_force(now, bindparam("channel") if on_channel else None)
    return (
        select(suppressions)
        .where(
            suppressions.c.workspace_id == bindparam("workspace_id"),
            suppressions.c[column].in_(bindparam("values", expanding=True)),
            condition,
        )
        .order_by(suppressions.c.id)
    )


def in_force_for(
    conn: Connection,
    workspace_id: str,
    *,
    contact_ids: Sequence[str] = (),
    email_hashes: Sequence[str] = (),
    channel: str | None = None,
    now: datetime,
) -> tuple[dict[str, Suppression], dict[str, Suppression]]:
    """Entries in force, by contact id and by email hash (the first of each, by id)."""
    by_contact: dict[str, Suppression] = {}
    by_hash: dict[str, Suppression] = {}
    for column, values, found in (
        (suppressions.c.contact_id, contact_ids, by_contact),
        (suppressions.c.email_hash, email_hashes, by_hash),
    ):
        statement = _in_force_by(column.name, channel is not None)
        for part in chunks(list(values)):
            rows = conn.execute(
                statement,
                {
                    "workspace_id": workspace_id,
                    "values": list(part),
                    "now": now,
                    "channel": channel,
                },
            )
            for row in rows:
                entry = to_suppression(row)
                target = (
                    entry.contact_id if column is suppressions.c.contact_id else entry.email_hash
                )
                assert target is not None
                found.setdefault(target, entry)
    return by_contact, by_hash


def erased_hashes(conn: Connection, workspace_id: str, hashes: Sequence[str]) -> set[str]:
    """Which of these email hashes belong to contacts erased on request."""
    found: set[str] = set()
    for part in chunks(list(hashes)):
        found.update(
            conn.execute(
                select(suppressions.c.email_hash).where(
                    suppressions.c.workspace_id == workspace_id,
                    suppressions.c.reason == "erased",
                    suppressions.c.email_hash.in_(part),
                )
            ).scalars()
        )
    return found


def lift(conn: Connection, workspace_id: str, suppression_id: int, *, now: datetime) -> Any:
    """Set ``lifted_at`` on one entry (if not lifted yet); its row, or None if there is none."""
    conn.execute(
        update(suppressions)
        .where(
            suppressions.c.id == suppression_id,
            suppressions.c.workspace_id == workspace_id,
            suppressions.c.lifted_at.is_(None),
        )
        .values(lifted_at=now)
    )
    return conn.execute(
        select(suppressions).where(
            suppressions.c.id == suppression_id, suppressions.c.workspace_id == workspace_id
        )
    ).first()


def of_contact(
    conn: Connection, workspace_id: str, contact_id: str, email_hash: str | None
) -> list[Suppression]:
    """Every entry naming the contact or its address, lifted ones included, oldest first."""
    targets = [suppressions.c.contact_id == contact_id]
    if email_hash is not None:
        targets.append(suppressions.c.email_hash == email_hash)
    rows = conn.execute(
        select(suppressions)
        .where(suppressions.c.workspace_id == workspace_id, or_(*targets))
        .order_by(suppressions.c.id)
    )
    return [to_suppression(row) for row in rows]
