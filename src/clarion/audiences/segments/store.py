"""Stored segments: create, read, list, change and delete them; the context rules resolve in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from clarion.audiences.segments.context import PersonaLink, SegmentContext
from clarion.audiences.segments.fields import AttributeType
from clarion.audiences.segments.persona_rules import inline_personas
from clarion.audiences.segments.references import segment_references
from clarion.audiences.segments.rules import RuleNode, parse_rule, segment_to_data
from clarion.audiences.segments.stored import SegmentInput, StoredSegment
from clarion.audiences.segments.validate import validate_rule
from clarion.audiences.tables import personas, segments
from clarion.core.clock import Clock
from clarion.core.errors import Conflict, NotFound
from clarion.core.ids import IdSource
from clarion.stores.app import AppStore

SegmentAction = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class SegmentChange:
    """What saving one definition did."""

    action: SegmentAction
    segment: StoredSegment


def to_segment(row: Any) -> StoredSegment:
    return StoredSegment(
        id=row.id,
        workspace_id=row.workspace_id,
        key=row.key,
        name=row.name,
        description=row.description,
        rule=row.rule,
        attribute_types=row.attribute_types,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        refreshed_at=row.refreshed_at,
    )


def find_row(conn: Connection, workspace_id: str, ref: str) -> Any:
    """The segment's row by id or key; NotFound otherwise."""
    row = conn.execute(
        select(segments).where(
            segments.c.workspace_id == workspace_id,
            or_(segments.c.id == ref, segments.c.key == ref),
        )
    ).first()
    if row is None:
        raise NotFound("segment", ref[:64])
    return row


@dataclass
class _Definitions:
    """A workspace's segment rules and personas, read once, with unsaved ones laid over them."""

    rules: dict[str, Any]
    types: dict[str, dict[str, AttributeType]]
    personas: dict[str, str | None]

    def context(self, key: str | None, own: Mapping[str, AttributeType]) -> SegmentContext:
        # A referenced segment's attributes are read with the types it declared; the segment's
        # own declarations win where two declare the same name.
        merged: dict[str, AttributeType] = {}
        for types in self.types.values():
            merged.update(types)
        merged.update(own)
        cache: dict[str, RuleNode | None] = {}
        holder: list[SegmentContext] = []

        def resolve_segment(other: str) -> RuleNode | None:
            if other not in cache:
                data = self.rules.get(other)
                cache[other] = (
                    None if data is None else inline_personas(parse_rule(data), holder[0])
                )
            return cache[other]

        def resolve_persona(other: str) -> PersonaLink | None:
            if other not in self.personas:
                return None
            return PersonaLink(other, self.personas[other])

        context = SegmentContext(
            attribute_types=merged,
            resolve_segment=resolve_segment,
            segment_key=key,
            resolve_persona=resolve_persona,
        )
        holder.append(context)
        return context


def _definitions(conn: Connection, workspace_id: str) -> _Definitions:
    rows = conn.execute(
        select(segments.c.key, segments.c.rule, segments.c.attribute_types).where(
            segments.c.workspace_id == workspace_id
        )
    ).all()
    links = conn.execute(
        select(personas.c.key, personas.c.segment_key).where(
            personas.c.workspace_id == workspace_id
        )
    ).all()
    return _Definitions(
        rules={row.key: row.rule for row in rows},
        types={row.key: dict(row.attribute_types) for row in rows},
        personas={row.key: row.segment_key for row in links},
    )


def workspace_context(
    store: AppStore,
    workspace_id: str,
    *,
    attribute_types: Mapping[str, AttributeType] | None = None,
    segment_key: str | None = None,
) -> SegmentContext:
    """The context an ad-hoc or stored rule of the workspace is checked and compiled in: its
    stored segments and personas resolve by key."""
    with store.reading() as conn:
        return _definitions(conn, workspace_id).context(segment_key, attribute_types or {})


def segment_rule(
    store: AppStore, workspace_id: str, ref: str
) -> tuple[StoredSegment, SegmentContext]:
    """A stored segment with the context its rule compiles in; NotFound if there is none."""
    with store.reading() as conn:
        return segment_rule_in(conn, workspace_id, ref)


def segment_rule_in(
    conn: Connection, workspace_id: str, ref: str
) -> tuple[StoredSegment, SegmentContext]:
    """``segment_rule`` inside an open transaction (it sees what the transaction wrote)."""
    segment = to_segment(find_row(conn, workspace_id, ref))
    return segment, _definitions(conn, workspace_id).context(segment.key, segment.attribute_types)


def save_segments(
    conn: Connection,
    workspace_id: str,
    inputs: Sequence[SegmentInput],
    *,
    now: datetime,
    ids: IdSource,
    create_only: bool = False,
    roots: Sequence[str] | None = None,
) -> list[SegmentChange]:
    """Create or update these definitions in one transaction, checked together (they may use
    each other in any order); InvalidInput at the first bad one, and nothing is saved."""
    known = _definitions(conn, workspace_id)
    for item in inputs:
        known.rules[item.definition.key] = segment_to_data(item.definition)["rule"]
        known.types[item.definition.key] = dict(item.attribute_types)
    for index, item in enumerate(inputs):
        root = roots[index] if roots else "rule"
        context = known.context(item.definition.key, item.attribute_types)
        validate_rule(item.definition.rule, context, root=root)
    return [
        _save(conn, workspace_id, item, now=now, ids=ids, create_only=create_only)
        for item in inputs
    ]


def _save(
    conn: Connection,
    workspace_id: str,
    item: SegmentInput,
    *,
    now: datetime,
    ids: IdSource,
    create_only: bool,
) -> SegmentChange:
    data = segment_to_data(item.definition)
    values = {
        "name": data.get("name"),
        "description": data.get("description"),
        "rule": data["rule"],
        "attribute_types": dict(item.attribute_types),
    }
    row = conn.execute(
        select(segments).where(
            segments.c.workspace_id == workspace_id, segments.c.key == item.definition.key
        )
    ).first()
    if row is None:
        segment_id = ids.new("sg")
        conn.execute(
            insert(segments).values(
                id=segment_id,
                workspace_id=workspace_id,
                key=item.definition.key,
                version=1,
                created_at=now,
                updated_at=now,
                **values,
            )
        )
        return SegmentChange("created", to_segment(find_row(conn, workspace_id, segment_id)))
    if create_only:
        raise Conflict(
            f"a segment with key {item.definition.key!r} exists already",
            {"key": item.definition.key},
        )
    if all(getattr(row, name) == value for name, value in values.items()):
        return SegmentChange("unchanged", to_segment(row))
    conn.execute(
        update(segments)
        .where(segments.c.id == row.id)
        .values(version=row.version + 1, updated_at=now, **values)
    )
    return SegmentChange("updated", to_segment(find_row(conn, workspace_id, row.id)))


def save_segment(
    store: AppStore,
    workspace_id: str,
    item: SegmentInput,
    *,
    clock: Clock,
    ids: IdSource,
    create_only: bool = False,
) -> SegmentChange:
    """Create (Conflict if ``create_only`` and the key is taken) or update one segment."""
    try:
        with store.transaction() as conn:
            return save_segments(
                conn, workspace_id, [item], now=clock.now(), ids=ids, create_only=create_only
            )[0]
    except IntegrityError:  # another writer took the key between our read and our insert
        raise Conflict(
            f"a segment with key {item.definition.key!r} exists already",
            {"key": item.definition.key},
        ) from None


def get_segment(store: AppStore, workspace_id: str, ref: str) -> StoredSegment:
    """The segment with id or key ``ref``; NotFound otherwise."""
    with store.reading() as conn:
        return to_segment(find_row(conn, workspace_id, ref))


def list_segments(store: AppStore, workspace_id: str) -> list[StoredSegment]:
    """The workspace's segments by key."""
    with store.reading() as conn:
        rows = conn.execute(
            select(segments).where(segments.c.workspace_id == workspace_id).order_by(segments.c.key)
        )
        return [to_segment(row) for row in rows]


def delete_segment(store: AppStore, workspace_id: str, ref: str) -> StoredSegment:
    """Delete a segment no other segment or persona uses; Conflict naming the users otherwise."""
    with store.transaction() as conn:
        segment = to_segment(find_row(conn, workspace_id, ref))
        users = _users(conn, workspace_id, segment.key)
        if users:
            raise Conflict(
                f"segment {segment.key!r} is used by {', '.join(users)}: change those first",
                {"key": segment.key, "used_by": users},
            )
        conn.execute(delete(segments).where(segments.c.id == segment.id))
    return segment


def mark_refreshed(conn: Connection, segment_id: str, at: datetime) -> None:
    """Record when the segment's membership was last refreshed."""
    conn.execute(update(segments).where(segments.c.id == segment_id).values(refreshed_at=at))


def _users(conn: Connection, workspace_id: str, key: str) -> list[str]:
    users = []
    rows = conn.execute(
        select(segments.c.key, segments.c.rule).where(segments.c.workspace_id == workspace_id)
    )
    for row in rows:
        if row.key != key and any(
            used == key for _, used in segment_references(parse_rule(row.rule))
        ):
            users.append(f"segment {row.key!r}")
    linked = conn.execute(
        select(personas.c.key).where(
            personas.c.workspace_id == workspace_id, personas.c.segment_key == key
        )
    ).scalars()
    users.extend(f"persona {persona!r}" for persona in linked)
    return users
