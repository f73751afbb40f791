"""Write finished outbox rows to the event store: message_sends rows and email events, once."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Final

import pyarrow as pa

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

    The rows come from the outbox, never from the public, so the batches are built column
    by column (the event store still checks names, nulls and types of every column).
    """
    if not rows:
        return
    since = min(r.finished_at for r in rows) - _MARGIN
    until = max(r.finished_at for r in rows) + _MARGIN
    ids = [r.id for r in rows]
    workspaces = [r.workspace_id for r in rows]
    campaigns = [r.campaign_id for r in rows]
    contacts = [r.contact_id for r in rows]
    variants = [r.variant for r in rows]
    finished = [r.finished_at for r in rows]
    sends = {
        "message_id": ids,
        "workspace_id": workspaces,
        "campaign_id": campaigns,
        "contact_id": contacts,
        "channel": ["email"] * len(rows),
        "variant": variants,
        "step": [r.step for r in rows],
        "sent_at": finished,
        "provider_id": [r.provider_id for r in rows],
        "status": [_STATUS[r.state] for r in rows],
        "error": [None if r.state == "sent" else r.detail for r in rows],
    }
    events.append_new(
        "message_sends",
        _table(sends),
        keys=["workspace_id", "message_id"],
        time_column="sent_at",
        since=since,
        until=until,
    )
    told = [i for i, r in enumerate(rows) if r.state in _EVENT]
    if told:
        facts = {
            "event_id": [f"evt_{ids[i]}_{rows[i].state}" for i in told],
            "workspace_id": [workspaces[i] for i in told],
            "type": [_EVENT[rows[i].state] for i in told],
            "ts": [finished[i] for i in told],
            "contact_id": [contacts[i] for i in told],
            "campaign_id": [campaigns[i] for i in told],
            "message_id": [ids[i] for i in told],
            "channel": ["email"] * len(told),
            "variant": [variants[i] for i in told],
            "properties": [_properties(rows[i]) for i in told],
        }
        events.append_new(
            "events",
            _table(facts),
            keys=["workspace_id", "event_id"],
            time_column="ts",
            since=since,
            until=until,
        )
    exposures = _exposures(rows, arms) if arms is not None else []
    if exposures:
        events.append_new(
            "events",
            exposures,
            keys=["workspace_id", "event_id"],
            time_column="ts",
            since=since,
            until=until,
        )


def _table(columns: dict[str, list[Any]]) -> pa.Table:
    """Columns as Arrow infers them; the event store casts each to its own type."""
    return pa.table({name: pa.array(values) for name, values in columns.items()})


_encode = json.JSONEncoder(separators=(",", ":")).encode


def _properties(row: Any) -> str:
    if row.state == "sent":
        return _step_properties(row.step)
    return _encode({"step": row.step, "error": row.detail})


@functools.lru_cache(maxsize=256)
def _step_properties(step: str) -> str:
    return _encode({"step": step})


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
