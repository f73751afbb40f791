"""Segments and personas written in files: a campaign file's sections, or a personas file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from clarion.audiences.persona_store import PersonaChange, check_links, save_personas
from clarion.audiences.personas import parse_persona
from clarion.audiences.segments.store import SegmentChange, save_segments
from clarion.audiences.segments.stored import segment_input
from clarion.core.clock import Clock
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.core.ids import IdSource
from clarion.stores.app import AppStore


@dataclass(frozen=True)
class AudienceChanges:
    """What applying a file's audience sections did, item by item."""

    segments: list[SegmentChange]
    personas: list[PersonaChange]


def apply_audience_sections(
    conn: Connection,
    workspace_id: str,
    segments: Sequence[Any],
    personas: Sequence[Any] = (),
    *,
    now: datetime,
    ids: IdSource,
) -> AudienceChanges:
    """Create or update each persona and segment the sections define (unchanged ones stay as
    they are); InvalidInput at ``segments[i]...`` or ``personas[i]...`` for the first bad one,
    and the caller's transaction rolls back. They may use each other in any order."""
    segment_roots = [f"segments[{i}]" for i in range(len(segments))]
    persona_roots = [f"personas[{i}]" for i in range(len(personas))]
    inputs = [segment_input(d, root=r) for d, r in zip(segments, segment_roots, strict=True)]
    found = [parse_persona(d, root=r) for d, r in zip(personas, persona_roots, strict=True)]
    _unique([item.definition.key for item in inputs], "segments")
    _unique([persona.key for persona in found], "personas")
    # Personas first: segments may use them; their links are checked once segments are saved.
    persona_changes = save_personas(conn, workspace_id, found, now=now, ids=ids)
    segment_changes = save_segments(
        conn, workspace_id, inputs, now=now, ids=ids, roots=[f"{r}.rule" for r in segment_roots]
    )
    check_links(conn, workspace_id, found, persona_roots)
    return AudienceChanges(segment_changes, persona_changes)


def _unique(keys: list[str], section: str) -> None:
    for index, key in enumerate(keys):
        if key in keys[:index]:
            path = f"{section}[{index}].key"
            problem = f"duplicate key {key!r}"
            raise InvalidInput(f"{path}: {problem}", [FieldProblem(path, problem)])


def apply_audience_file(
    store: AppStore,
    workspace_id: str,
    data: Any,
    *,
    clock: Clock,
    ids: IdSource,
) -> AudienceChanges:
    """Apply a personas/segments file: ``{personas: [...], segments: [...]}``, a list of
    personas, or one persona; in one transaction, idempotently."""
    if isinstance(data, dict) and set(data) <= {"personas", "segments"} and data:
        personas, segments = data.get("personas") or [], data.get("segments") or []
    elif isinstance(data, list):
        personas, segments = data, []
    else:
        personas, segments = [data], []
    for name, section in (("personas", personas), ("segments", segments)):
        if not isinstance(section, list):
            problem = "expected a list"
            raise InvalidInput(f"{name}: {problem}", [FieldProblem(name, problem)])
    with store.transaction() as conn:
        return apply_audience_sections(
            conn, workspace_id, segments, personas, now=clock.now(), ids=ids
        )
