"""The ``segments:`` section of a campaign file, saved with the campaign in its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from clarion.audiences.segments.store import SegmentChange, save_segments
from clarion.audiences.segments.stored import segment_input
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.core.ids import IdSource


def apply_segment_section(
    conn: Connection,
    workspace_id: str,
    section: Sequence[Any],
    *,
    now: datetime,
    ids: IdSource,
) -> list[SegmentChange]:
    """Create or update each segment the section defines (unchanged ones stay as they are);
    InvalidInput at ``segments[i]...`` for the first bad one, and the caller rolls back."""
    roots = [f"segments[{i}]" for i in range(len(section))]
    inputs = [segment_input(data, root=root) for data, root in zip(section, roots, strict=True)]
    keys = [item.definition.key for item in inputs]
    for index, key in enumerate(keys):
        if key in keys[:index]:
            path = f"segments[{index}].key"
            problem = f"duplicate segment key {key!r}"
            raise InvalidInput(f"{path}: {problem}", [FieldProblem(path, problem)])
    return save_segments(
        conn, workspace_id, inputs, now=now, ids=ids, roots=[f"{r}.rule" for r in roots]
    )
