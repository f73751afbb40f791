"""Apply classified feedback: suppress at once or after repeated soft bounces, and make events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from clarion.audiences import service as audiences
from clarion.audiences.contracts import SuppressionReason
from clarion.core.clock import Clock
from clarion.core.errors import InvalidInput, NotFound
from clarion.core.ids import IdSource
from clarion.delivery.feedback.contracts import Feedback, Summary
from clarion.delivery.feedback.tables import feedback_receipts, soft_bounces
from clarion.settings import FeedbackSettings
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore
from clarion.tracking import service as tracking
from clarion.tracking.contracts import TrackedMessage

MAX_PROBLEMS: Final = 20
_COUNTERS: Final = {
    "hard_bounce": "hard_bounces",
    "soft_bounce": "soft_bounces",
    "complaint": "complaints",
    "auto_reply": "auto_replies",
    "ignored": "ignored",
    "unrecognised": "unrecognised",
}


@dataclass
class Applied:
    """The events to store for a batch of feedback, and what the batch did."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)


def _claim(store: AppStore, item: Feedback, now: datetime) -> bool:
    """Record that ``item`` is applied; False when it was applied before."""
    try:
        with store.transaction() as conn:
            conn.execute(
                insert(feedback_receipts).values(
                    receipt=item.receipt[:160],
                    kind=item.kind,
                    message_id=item.message_id,
                    received_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


def _soft_count(store: AppStore, message: TrackedMessage, now: datetime, window: timedelta) -> int:
    """Add this soft bounce; the contact's soft bounces within the window, this one included."""
    with store.transaction() as conn:
        conn.execute(
            insert(soft_bounces).values(
                workspace_id=message.workspace_id,
                contact_id=message.contact_id,
                message_id=message.message_id,
                at=now,
            )
        )
        return int(
            conn.execute(
                select(func.count()).where(
                    soft_bounces.c.workspace_id == message.workspace_id,
                    soft_bounces.c.contact_id == message.contact_id,
                    soft_bounces.c.at > now - window,
                )
            ).scalar_one()
        )


def _suppress(
    store: AppStore,
    events: EventStore,
    message: TrackedMessage,
    item: Feedback,
    *,
    reason: SuppressionReason,
    source: str,
    clock: Clock,
) -> bool:
    """Suppress the message's contact on its channel (or, if it is gone, the address)."""
    common: dict[str, Any] = {"reason": reason, "clock": clock, "source": source[:200]}
    try:
        audiences.suppress(
            store,
            events,
            message.workspace_id,
            contact_id=message.contact_id,
            channel=message.channel,
            **common,
        )
    except NotFound:
        if item.recipient is None:
            return False
        try:
            audiences.suppress(
                store,
                events,
                message.workspace_id,
                email=item.recipient,
                channel=message.channel,
                **common,
            )
        except InvalidInput:
            return False
    return True


def _row(
    message: TrackedMessage, item: Feedback, *, now: datetime, ids: IdSource, props: dict[str, Any]
) -> dict[str, Any]:
    ts = item.occurred_at if item.occurred_at is not None and item.occurred_at <= now else now
    properties = {
        "reporter": item.reporter[:200],
        "detail": item.detail[:500],
        "receipt": item.receipt[:160],
        **props,
    }
    if item.status:
        properties["status"] = item.status
    return {
        "event_id": ids.new("evt"),
        "workspace_id": message.workspace_id,
        "type": "email_complaint" if item.kind == "complaint" else "email_bounce",
        "ts": ts,
        "received_at": now,
        "contact_id": message.contact_id,
        "campaign_id": message.campaign_id,
        "message_id": message.message_id,
        "channel": message.channel,
        "variant": message.variant,
        "properties": properties,
    }


def apply_feedback(
    store: AppStore,
    events: EventStore,
    items: Sequence[Feedback],
    *,
    settings: FeedbackSettings,
    clock: Clock,
    ids: IdSource,
) -> Applied:
    """Apply each report once: hard bounces and complaints suppress at once; soft bounces
    once ``soft_bounce_limit`` of them fall within the window. Auto-replies and anything
    unreadable change nothing. The caller stores ``rows`` (the one event-table writer)."""
    applied = Applied()
    summary = applied.summary
    window = timedelta(days=settings.soft_bounce_window_days)
    for item in items:
        summary.read += 1
        counter = _COUNTERS[item.kind]
        if item.kind not in ("hard_bounce", "soft_bounce", "complaint"):
            setattr(summary, counter, getattr(summary, counter) + 1)
            if item.kind == "unrecognised" and len(summary.problems) < MAX_PROBLEMS:
                summary.problems.append(item.detail[:300])
            continue
        message = tracking.find_message(store, item.message_id) if item.message_id else None
        if message is None:
            summary.unmatched += 1
            if len(summary.problems) < MAX_PROBLEMS:
                named = item.message_id or "no Clarion message id in the returned headers"
                summary.problems.append(f"{item.kind} for an unknown message: {named[:80]}")
            continue
        now = clock.now()
        if not _claim(store, item, now):
            summary.duplicates += 1
            continue
        setattr(summary, counter, getattr(summary, counter) + 1)
        props: dict[str, Any] = {}
        if item.kind == "soft_bounce":
            count = _soft_count(store, message, now, window)
            props = {"bounce_type": "soft", "soft_bounces_in_window": count}
            if count >= settings.soft_bounce_limit and _suppress(
                store,
                events,
                message,
                item,
                reason="hard_bounce",
                source=f"feedback:soft_bounce_limit:{count}_in_{window.days}d",
                clock=clock,
            ):
                summary.suppressed += 1
                props["suppressed"] = True
        else:
            reason: SuppressionReason = "complaint" if item.kind == "complaint" else "hard_bounce"
            if item.kind == "hard_bounce":
                props = {"bounce_type": "hard"}
            if _suppress(
                store,
                events,
                message,
                item,
                reason=reason,
                source=f"feedback:{item.reporter or 'report'}",
                clock=clock,
            ):
                summary.suppressed += 1
                props["suppressed"] = True
        props.update({k: v for k, v in item.extra.items() if isinstance(v, str | int | bool)})
        applied.rows.append(_row(message, item, now=now, ids=ids, props=props))
    return applied
