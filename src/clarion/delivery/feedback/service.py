"""The feedback facade: import returned mail from a path or a mailbox and apply it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

from clarion.delivery.feedback.apply import Applied, apply_feedback
from clarion.delivery.feedback.contracts import Feedback
from clarion.delivery.feedback.parse import classify
from clarion.delivery.feedback.sources import Raw
from clarion.instance import Instance
from clarion.tracking.commit import Submission, commit

BATCH: Final = 500  # reports applied and committed together


def _store_rows(instance: Instance, rows: list[dict[str, Any]]) -> None:
    """Commit events from a process that owns the event store (the CLI), exactly once."""
    if rows:
        assert instance.events is not None
        commit(instance.events, [Submission(rows)])


def import_feedback(
    instance: Instance,
    messages: Iterable[Raw],
    *,
    progress: Callable[[int], None] | None = None,
) -> Applied:
    """Classify and apply every returned email; the process must own the event store.

    Bounces, complaints and their events are applied batch by batch, so an interrupted
    import keeps what it did, and running it again skips the reports already applied.
    """
    events = instance.open_events()
    total = Applied()  # counts only: the rows are committed batch by batch
    batch: list[Feedback] = []

    def flush() -> None:
        done = apply_feedback(
            instance.store,
            events,
            batch,
            settings=instance.settings.feedback,
            clock=instance.clock,
            ids=instance.ids,
        )
        _store_rows(instance, done.rows)
        merged = total.summary.as_dict()
        for name, value in done.summary.as_dict().items():
            if name == "problems":
                total.summary.problems.extend(value[: 20 - len(total.summary.problems)])
            else:
                setattr(total.summary, name, merged[name] + value)
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for raw in messages:
        item = classify(raw.data)
        if item.kind == "unrecognised":
            item = Feedback(item.kind, item.receipt, detail=f"{raw.ref}: {item.detail}")
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return total
