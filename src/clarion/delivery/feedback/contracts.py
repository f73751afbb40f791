"""What delivery feedback is once read: a classified report naming the message it is about."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias

# hard_bounce: permanent (5.x.x); soft_bounce: transient (4.x.x) or delayed; complaint: the
# recipient marked it as spam (ARF abuse/fraud); auto_reply: an out-of-office or similar,
# never a bounce; ignored: a report that is no failure (delivered, relayed, not-spam);
# unrecognised: not a report Clarion can read (malformed, or no status at all).
FeedbackKind: TypeAlias = Literal[
    "hard_bounce", "soft_bounce", "complaint", "auto_reply", "ignored", "unrecognised"
]
ACTIONABLE: tuple[FeedbackKind, ...] = ("hard_bounce", "soft_bounce", "complaint")


@dataclass(frozen=True)
class Feedback:
    """One report, classified: what happened to which message, in the reporter's words."""

    kind: FeedbackKind
    receipt: str  # what makes it count once: a digest of the report, or the provider's event id
    message_id: str | None = None  # Clarion's message id (X-Clarion-Message or Message-ID)
    recipient: str | None = None  # the address that bounced or complained
    status: str | None = None  # enhanced status code, e.g. "5.1.1"
    detail: str = ""  # diagnostic text, feedback type, or why it was not recognised
    reporter: str = ""  # the MTA or provider that reported it
    occurred_at: datetime | None = None  # when the reporter says it happened
    extra: dict[str, Any] = field(default_factory=dict)  # provider specifics for the event


@dataclass
class Summary:
    """What an import or a webhook did, by outcome."""

    read: int = 0
    hard_bounces: int = 0
    soft_bounces: int = 0
    complaints: int = 0
    auto_replies: int = 0
    ignored: int = 0
    unrecognised: int = 0
    unmatched: int = 0  # actionable, but naming no message Clarion sent
    duplicates: int = 0  # applied before (same report or provider event)
    suppressed: int = 0  # suppression entries added
    problems: list[str] = field(default_factory=list)  # the first few, for display

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)
