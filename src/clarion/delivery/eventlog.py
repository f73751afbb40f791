"""Write finished outbox rows to the event store: message_sends rows and email events, once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Final

from clarion.delivery.variants import StepExperiment
from clarion.experiments.assignment import exposure_rows
from clarion.stores.events import EventStore

_STATUS: Final = {"sent": "sent", "failed": "failed", "skipped": "suppressed"}
_EVENT: Final = {"sent": "email_sent", "failed": "email_failed"}
_MARGIN: Final = timedelta(seconds=1)


def write(events: EventStore, rows: Sequence[Any], *, arms: StepExperiment | None = None) -> None:
    """Append the rows' facts; a row written before (a crash between the append and the
    outbox update) is found by its message id in the time window and not written again.

    With ``arms`` (the send's experiment), each sent message of the test is also an
    exposure of its contact to its variant, stamped when the server took it.
    """
    if not rows:
        return
    sends = [
        {
            "message_id": r.id,
            "workspace_id": r.workspace_id,
            "campaign_id": r.campaign_id,
            "contact_id": r.contact_id,
            "channel": "email",
            "variant": r.variant,
            "step": r.step,
            "sent_at": r.finished_at,
            "provider_id": r.provider_id,
            "status": _STATUS[r.state],
            "error": None if r.state == "sent" else r.detail,
        }
        for r in rows
    ]
    since = min(r.finished_at for r in rows) - _MARGIN
    until = max(r.finished_at for r in rows) + _MARGIN
    events.append_new(
        "message_sends",
        sends,
        keys=["workspace_id", "message_id"],
        time_column="sent_at",
        since=since,
        until=until,
    )
    facts = [
        {
            "event_id": f"evt_{r.id}_{r.state}",
            "workspace_id": r.workspace_id,
            "type": _EVENT[r.state],
            "ts": r.finished_at,
            "contact_id": r.contact_id,
            "campaign_id": r.campaign_id,
            "message_id": r.id,
            "channel": "email",
            "variant": r.variant,
            "properties": {"step": r.step}
            if r.state == "sent"
            else {"step": r.step, "error": r.detail},
        }
        for r in rows
        if r.state in _EVENT
    ]
    if arms is not None:
        facts += _exposures(rows, arms)
    if facts:
        events.append_new(
            "events",
            facts,
            keys=["workspace_id", "event_id"],
            time_column="ts",
            since=since,
            until=until,
        )


def _exposures(rows: Sequence[Any], arms: StepExperiment) -> list[dict[str, Any]]:
    """The exposure events of the sent rows of an experiment's test (ids fixed by contact and
    instant, so a rewrite after a crash is recognised)."""
    by_instant: dict[Any, list[Any]] = {}
    for r in rows:
        if r.state == "sent" and r.variant is not None and arms.exposed(r.contact_id):
            by_instant.setdefault(r.finished_at, []).append(r)
    found: list[dict[str, Any]] = []
    for at, sent in by_instant.items():
        found += exposure_rows(
            workspace_id=sent[0].workspace_id,
            experiment_key=arms.key,
            campaign_id=sent[0].campaign_id,
            channel="email",
            assignments=[(r.contact_id, r.variant) for r in sent],
            at=at,
        )
    return found
