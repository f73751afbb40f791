"""Stored personas: save, read, list and delete them; their segment links are checked on save."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from clarion.audiences.personas import Persona
from clarion.audiences.segments.rules import PersonaRule, RuleNode, children, parse_rule
from clarion.audiences.segments.store import segment_rule_in
from clarion.audiences.segments.validate import validate_rule
from clarion.audiences.tables import personas, segments
from clarion.core.clock import Clock
from clarion.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from clarion.core.ids import IdSource
from clarion.stores.app import AppStore


@dataclass(frozen=True)
class StoredPersona:
    """A persona of a workspace with its id and version."""

    id: str
    workspace_id: str
    persona: Persona
    version: int
    created_at: datetime
    updated_at: datetime

    def as_data(self) -> dict[str, Any]:
        """The persona as JSON data, as written in a personas file, plus id and version."""
        return {
            "id": self.id,
            **self.persona.model_dump(mode="json"),
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class PersonaChange:
    """What saving one persona did."""

    action: Literal["created", "updated", "unchanged"]
    persona: StoredPersona


def _to_persona(row: Any) -> StoredPersona:
    persona = Persona.model_validate(
        {
            **row.profile,
            "key": row.key,
            "label": row.label,
            "segment": row.segment_key,
            "content": row.content_keys,
        }
    )
    return StoredPersona(
        row.id, row.workspace_id, persona, row.version, row.created_at, row.updated_at
    )


def _find(conn: Connection, workspace_id: str, ref: str) -> Any:
    row = conn.execute(
        select(personas).where(
            personas.c.workspace_id == workspace_id,
            or_(personas.c.id == ref, personas.c.key == ref),
        )
    ).first()
    if row is None:
        raise NotFound("persona", ref[:64])
    return row


def save_personas(
    conn: Connection,
    workspace_id: str,
    items: Sequence[Persona],
    *,
    now: datetime,
    ids: IdSource,
    create_only: bool = False,
) -> list[PersonaChange]:
    """Create or update personas in the caller's transaction; call ``check_links`` once the
    segments they name are saved too."""
    return [
        _save(conn, workspace_id, item, now=now, ids=ids, create_only=create_only) for item in items
    ]


def _save(
    conn: Connection,
    workspace_id: str,
    item: Persona,
    *,
    now: datetime,
    ids: IdSource,
    create_only: bool,
) -> PersonaChange:
    values = {
        "label": item.label,
        "segment_key": item.segment,
        "profile": item.profile(),
        "content_keys": list(item.content),
    }
    row = conn.execute(
        select(personas).where(personas.c.workspace_id == workspace_id, personas.c.key == item.key)
    ).first()
    if row is None:
        persona_id = ids.new("ps")
        conn.execute(
            insert(personas).values(
                id=persona_id,
                workspace_id=workspace_id,
                key=item.key,
                version=1,
                created_at=now,
                updated_at=now,
                **values,
            )
        )
        return PersonaChange("created", _to_persona(_find(conn, workspace_id, persona_id)))
    if create_only:
        raise Conflict(f"a persona with key {item.key!r} exists already", {"key": item.key})
    if all(getattr(row, name) == value for name, value in values.items()):
        return PersonaChange("unchanged", _to_persona(row))
    conn.execute(
        update(personas)
        .where(personas.c.id == row.id)
        .values(version=row.version + 1, updated_at=now, **values)
    )
    return PersonaChange("updated", _to_persona(_find(conn, workspace_id, row.id)))


def check_links(
    conn: Connection, workspace_id: str, items: Sequence[Persona], roots: Sequence[str]
) -> None:
    """Each persona's segment exists and, with the persona's link, is still sound (a segment
    that uses its own persona is a cycle); InvalidInput at ``<root>.segment`` otherwise."""
    for item, root in zip(items, roots, strict=True):
        if item.segment is None:
            continue
        path = f"{root}.segment" if root else "segment"
        try:
            segment, context = segment_rule_in(conn, workspace_id, item.segment)
        except NotFound:
            problem = f"unknown segment {item.segment!r}"
            raise InvalidInput(f"{path}: {problem}", [FieldProblem(path, problem)]) from None
        try:
            validate_rule(segment.rule, context)
        except InvalidInput as error:
            first = error.problems[0]
            problem = f"segment {item.segment!r} would be unsound: {first.path}: {first.problem}"
            raise InvalidInput(f"{path}: {problem}", [FieldProblem(path, problem)]) from None


def save_persona(
    store: AppStore,
    workspace_id: str,
    item: Persona,
    *,
    clock: Clock,
    ids: IdSource,
    create_only: bool = False,
) -> PersonaChange:
    """Create (Conflict if ``create_only`` and the key is taken) or update one persona."""
    try:
        with store.transaction() as conn:
            change = save_personas(
                conn, workspace_id, [item], now=clock.now(), ids=ids, create_only=create_only
            )[0]
            check_links(conn, workspace_id, [item], [""])
            return change
    except IntegrityError:
        raise Conflict(
            f"a persona with key {item.key!r} exists already", {"key": item.key}
        ) from None


def get_persona(store: AppStore, workspace_id: str, ref: str) -> StoredPersona:
    """The persona with id or key ``ref``; NotFound otherwise."""
    with store.reading() as conn:
        return _to_persona(_find(conn, workspace_id, ref))


def list_personas(store: AppStore, workspace_id: str) -> list[StoredPersona]:
    """The workspace's personas by key."""
    with store.reading() as conn:
        rows = conn.execute(
            select(personas).where(personas.c.workspace_id == workspace_id).order_by(personas.c.key)
        )
        return [_to_persona(row) for row in rows]


def delete_persona(store: AppStore, workspace_id: str, ref: str) -> StoredPersona:
    """Delete a persona no segment rule uses; Conflict naming those segments otherwise."""
    with store.transaction() as conn:
        found = _to_persona(_find(conn, workspace_id, ref))
        rows = conn.execute(
            select(segments.c.key, segments.c.rule).where(segments.c.workspace_id == workspace_id)
        )
        users = [row.key for row in rows if found.persona.key in _personas_in(parse_rule(row.rule))]
        if users:
            raise Conflict(
                f"persona {found.persona.key!r} is used by segments {', '.join(users)}",
                {"key": found.persona.key, "used_by": users},
            )
        conn.execute(delete(personas).where(personas.c.id == found.id))
    return found


def _personas_in(rule: RuleNode) -> set[str]:
    found, stack = set(), [rule]
    while stack:
        node = stack.pop()
        if isinstance(node, PersonaRule):
            found.add(node.persona)
        stack.extend(child for _, child in children(node))
    return found
