"""Engagement levels from events: new, active, returning, dormant, by day thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clarion.audiences.segments.rules import Level
from clarion.core.errors import FieldProblem, InvalidInput

# Events that are not the contact engaging: a bounce is the mail server's doing, and a
# complaint or an unsubscribe is the opposite of engagement.
NOT_ACTIVITY = frozenset({"bounce", "complaint", "unsubscribe"})


@dataclass(frozen=True)
class EngagementThresholds:
    """The day thresholds behind the levels; ``new_days <= active_days <= dormant_days``.

    Activity is any event of the contact (stitched, not by a machine, not in ``not_activity``)
    at or before now. With ``known`` the earlier of ``created_at`` and the first activity:

    - new: known within the last ``new_days``;
    - returning: not new, active within the last ``active_days``, no activity in the
      ``active_days`` before that, and known since before that earlier period began;
    - active: not new, active within the last ``active_days``, and not returning;
    - dormant: not new and no activity within the last ``dormant_days``.

    A contact whose last activity lies between ``active_days`` and ``dormant_days`` ago
    (lapsing) has no level.
    """

    new_days: int = 14
    active_days: int = 30
    dormant_days: int = 90
    not_activity: frozenset[str] = field(default=NOT_ACTIVITY)

    def __post_init__(self) -> None:
        problems = []
        if self.new_days < 1:
            problems.append(FieldProblem("new_days", "must be at least 1"))
        if self.active_days < self.new_days:
            problems.append(FieldProblem("active_days", "must be at least new_days"))
        if self.dormant_days < self.active_days:
            problems.append(FieldProblem("dormant_days", "must be at least active_days"))
        if problems:
            raise InvalidInput("engagement thresholds rejected", problems)

    def windows(self, now: datetime) -> EngagementWindows:
        """The instants the definitions compare with, for one evaluation's now."""
        day = timedelta(days=1)
        return EngagementWindows(
            now=now,
            new_since=now - self.new_days * day,
            active_since=now - self.active_days * day,
            previous_since=now - 2 * self.active_days * day,
            dormant_since=now - self.dormant_days * day,
        )


@dataclass(frozen=True)
class EngagementWindows:
    """Instants of one evaluation: periods are ``[since, now]``; the previous period is
    ``[previous_since, active_since)``."""

    now: datetime
    new_since: datetime
    active_since: datetime
    previous_since: datetime
    dormant_since: datetime


def classify(
    windows: EngagementWindows,
    *,
    known: datetime | None,
    active_now: bool,
    active_before: bool,
    active_recently: bool,
) -> Level | None:
    """The level of one contact (the definition in plain Python; compile.py mirrors it).

    ``active_now``: activity in ``[active_since, now]``; ``active_before``: activity in
    ``[previous_since, active_since)``; ``active_recently``: activity in ``[dormant_since, now]``.
    """
    if known is not None and known >= windows.new_since:
        return "new"
    if active_now:
        came_back = not active_before and known is not None and known < windows.previous_since
        return "returning" if came_back else "active"
    if not active_recently:
        return "dormant"
    return None
