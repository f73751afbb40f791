"""Time in rules: what a date value, ``within_days`` and ``between`` mean as instants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, TypeAlias

from clarion.audiences.segments.rules import DaysAgo

Comparison: TypeAlias = Literal["<", "<=", ">", ">="]
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Bound:
    """One side of a time range: ``ts <op> at``."""

    op: Comparison
    at: datetime

    def holds(self, instant: datetime) -> bool:
        """Whether ``instant`` lies on the right side of this bound."""
        if self.op == "<":
            return instant < self.at
        if self.op == "<=":
            return instant <= self.at
        if self.op == ">":
            return instant > self.at
        return instant >= self.at


def as_date_value(value: Any) -> date | datetime | DaysAgo | None:
    """A rule value read as a date: an ISO day, an ISO instant (UTC if no offset), a date or
    datetime (from YAML), or ``{days_ago: n}``; None if it is none of these."""
    if isinstance(value, DaysAgo | datetime | date):
        return value
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        if _DAY.match(value):
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _span(value: date | datetime | DaysAgo, now: datetime) -> tuple[datetime, datetime, bool]:
    """(first instant, end, whether a day): a day spans [midnight, next midnight)."""
    if isinstance(value, DaysAgo):
        instant = now - timedelta(days=value.days_ago)
        return instant, instant, False
    if isinstance(value, datetime):
        instant = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        instant = instant.astimezone(UTC)
        return instant, instant, False
    start = datetime.combine(value, time(), tzinfo=UTC)
    return start, start + timedelta(days=1), True


def date_bounds(op: str, value: Any, now: datetime) -> list[Bound]:
    """The bounds of ``<op> value`` on a date field; a day value means the whole day, so
    ``> 2027-01-01`` starts on 2 January and ``<= 2027-01-01`` ends with 1 January."""
    if op == "between":
        low, high = value
        return [*date_bounds(">=", low, now), *date_bounds("<=", high, now)]
    parsed = as_date_value(value)
    if parsed is None:
        raise ValueError(f"not a date: {value!r}")
    start, end, whole_day = _span(parsed, now)
    if op == ">=":
        return [Bound(">=", start)]
    if op == "<":
        return [Bound("<", start)]
    if op == ">":
        return [Bound(">=", end)] if whole_day else [Bound(">", start)]
    if op == "<=":
        return [Bound("<", end)] if whole_day else [Bound("<=", start)]
    raise ValueError(f"operator {op} does not compare dates")


def behaviour_window(
    within_days: int | None, between: tuple[Any, Any] | None, now: datetime
) -> list[Bound]:
    """The time bounds of a behaviour rule's events: never after now, and within its window."""
    bounds = [Bound("<=", now)]
    if within_days is not None:
        bounds.append(Bound(">=", now - timedelta(days=within_days)))
    if between is not None:
        bounds.extend(date_bounds("between", between, now))
    return bounds


def window_start(bounds: list[Bound]) -> datetime | None:
    """The latest lower bound of a window, or None when it reaches back forever."""
    starts = [bound.at for bound in bounds if bound.op in (">", ">=")]
    return max(starts) if starts else None
