"""Cohorts: people grouped by the week of their first touch, and how many come back each week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import ibis.expr.types as ir

from clarion.analytics.funnels import people_events
from clarion.analytics.scope import Scoped
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.stats.wilson import wilson_interval

MAX_WEEKS = 104


@dataclass(frozen=True)
class RetentionCell:
    """Of a cohort, how many were active ``offset`` weeks after their first week."""

    offset: int
    active: int
    rate: float
    low: float
    high: float


@dataclass(frozen=True)
class Cohort:
    """People whose first touch fell in ``week`` (a Monday), and their weekly retention."""

    week: date
    size: int
    retention: list[RetentionCell]


def retention_expression(
    scope: Scoped, weeks: int, since: datetime | None, until: datetime | None
) -> ir.Table:
    """``cohort``, ``offset`` and ``active`` (distinct people) for offsets 0 to ``weeks``."""
    events = people_events(scope, since, until)
    events = events.mutate(week=events.ts.date().truncate("W"))
    first = events.group_by("person").aggregate(cohort=events.week.min())
    active = events.select(active_person="person", active_week="week").distinct()
    joined = active.inner_join(first, active.active_person == first.person)
    offsets = joined.mutate(offset=joined.active_week.delta(joined.cohort, unit="day") // 7)
    offsets = offsets.filter(offsets.offset <= weeks)
    return offsets.group_by(["cohort", "offset"]).aggregate(active=offsets.count())


def retention(
    scope: Scoped,
    *,
    weeks: int = 8,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Cohort]:
    """Each first-touch week's cohort with the share active in each later week (Wilson 95%)."""
    if not 0 <= weeks <= MAX_WEEKS:
        problem = FieldProblem("weeks", f"between 0 and {MAX_WEEKS}")
        raise InvalidInput(f"invalid retention: weeks: {problem.problem}", [problem])
    found: dict[date, dict[int, int]] = {}
    for record in retention_expression(scope, weeks, since, until).to_pyarrow().to_pylist():
        found.setdefault(record["cohort"], {})[int(record["offset"])] = int(record["active"])
    cohorts = []
    for week in sorted(found):
        size = found[week][0]  # everyone is active in their own first week
        cells = []
        for offset in sorted(found[week]):
            active = found[week][offset]
            rate, low, high = wilson_interval(active, size) or (0.0, 0.0, 0.0)
            cells.append(RetentionCell(offset, active, rate, low, high))
        cohorts.append(Cohort(week, size, cells))
    return cohorts
