"""Write finished outbox rows to the event store: message_sends rows and email events, once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Final

from clarion.stores.events import EventStore

_STATUS: Final = {"sent": "sent", "failed": "failed", "skipped": "suppressed"}
_EVENT: Final = {"sent": "email_sent", "failed": "email_failed"}
_MARGIN: Final = timedelta(seconds=1)


def write(events: EventStore, rows: Sequence[Any]) -> None:
    """Append the rows' facts; a row written before (a crash between the append and the
    outbox update) is found by its message id in the time window and not written again."""
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
    if facts:
        events.append_new(
            "events",
            facts,
            keys=["workspace_id", "event_id"],
            time_column="ts",
            since=since,
            until=until,
        )
