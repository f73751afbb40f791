"""Preview a segment: how many contacts match now, and a few of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from clarion.audiences.segments.compile import segment_contacts
from clarion.audiences.segments.context import SegmentContext
from clarion.audiences.segments.rules import RuleNode
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.stores.events import EventStore

MAX_SAMPLE: Final = 100


@dataclass(frozen=True)
class SegmentPreview:
    """The size of a segment at one instant and the first few members by contact id."""

    count: int
    sample_contact_ids: tuple[str, ...]


def preview(
    store: EventStore,
    workspace_id: str,
    rule: RuleNode | Any,
    *,
    now: datetime,
    context: SegmentContext | None = None,
    sample: int = 10,
) -> SegmentPreview:
    """Count the contacts ``rule`` selects at ``now`` and list up to ``sample`` of them."""
    if not 0 <= sample <= MAX_SAMPLE:
        raise InvalidInput(
            f"sample must be between 0 and {MAX_SAMPLE}",
            [FieldProblem("sample", f"must be between 0 and {MAX_SAMPLE}")],
        )
    members = segment_contacts(store, workspace_id, rule, now=now, context=context)
    count = int(members.count().to_pyarrow().as_py())
    ids: list[str] = []
    if sample and count:
        first = members.select("contact_id").order_by("contact_id").limit(sample)
        ids = first.to_pyarrow().column("contact_id").to_pylist()
    return SegmentPreview(count=count, sample_contact_ids=tuple(ids))
