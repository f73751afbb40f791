"""What the delivery slice shows the rest of the system: sends, their progress, outbox rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class SendState(StrEnum):
    """Where a send is: running (the worker claims its rows), paused, cancelled or done."""

    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


# queued → claimed → sending → sent | failed; skipped at send time; cancelled with the send.
# held: outside a test-then-send test share, waiting for the winner (then queued).
MESSAGE_STATES = (
    "held",
    "queued",
    "claimed",
    "sending",
    "sent",
    "failed",
    "skipped",
    "cancelled",
)
OPEN_STATES = ("queued", "claimed", "sending")


@dataclass(frozen=True)
class Send:
    """A campaign's email step being sent: a snapshot of recipients and where it stands."""

    id: str
    workspace_id: str
    campaign_id: str
    step: str
    state: SendState
    recipients: int
    options: dict[str, Any]
    not_before: datetime | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class SendProgress:
    """Counts of a send's outbox rows by state, the in-doubt count and the rate so far."""

    send: Send
    counts: dict[str, int]
    in_doubt: int  # resends of rows found in `sending` after a crash: the only duplicates
    rate_per_second: float | None
    retrying: int = 0  # of the queued rows, those waiting out a retry back-off

    @property
    def remaining(self) -> int:
        return sum(self.counts.get(state, 0) for state in OPEN_STATES)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.send.id,
            "campaign_id": self.send.campaign_id,
            "step": self.send.step,
            "state": self.send.state.value,
            "recipients": self.send.recipients,
            "sent": self.counts.get("sent", 0),
            "failed": self.counts.get("failed", 0),
            "skipped": self.counts.get("skipped", 0),
            "cancelled": self.counts.get("cancelled", 0),
            "remaining": self.remaining,
            "held": self.counts.get("held", 0),
            "retrying": self.retrying,
            "in_doubt": self.in_doubt,
            "rate_per_second": self.rate_per_second,
            "not_before": self.send.not_before.isoformat() if self.send.not_before else None,
            "created_at": self.send.created_at.isoformat(),
            "finished_at": self.send.finished_at.isoformat() if self.send.finished_at else None,
        }


@dataclass(frozen=True)
class StartResult:
    """What starting a step did: created a send from a fresh snapshot, or found it."""

    created: bool
    send: Send


@dataclass(frozen=True)
class Rollout:
    """Test-then-send: what the rest of a send's audience gets, or why it must wait."""

    send_id: str
    experiment_key: str
    action: str  # wait, send_winner, send_fallback
    variant: str | None  # None while waiting
    reason: str
    released: int  # held rows queued with the variant (0 while waiting)
    outcome: str | None  # the experiment decision's outcome (None while waiting)
    decision_id: str | None
    test_sent_at: datetime | None
    decided_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "send_id": self.send_id,
            "experiment": self.experiment_key,
            "action": self.action,
            "variant": self.variant,
            "reason": self.reason,
            "released": self.released,
            "outcome": self.outcome,
            "decision_id": self.decision_id,
            "test_sent_at": self.test_sent_at.isoformat() if self.test_sent_at else None,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }
