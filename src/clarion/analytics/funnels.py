"""Ordered funnels: who did step 1, then step 2 within the window, and so on; drop-off per step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import ibis
import ibis.expr.types as ir

from clarion.analytics.scope import Scoped
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.stats.wilson import wilson_interval

MAX_STEPS: Final = 20


@dataclass(frozen=True)
class FunnelStep:
    """One step: an event type, optionally only where the URL contains a text."""

    type: str
    url_contains: str | None = None

    @property
    def label(self) -> str:
        return self.type if self.url_contains is None else f"{self.type} ~ {self.url_contains}"


@dataclass(frozen=True)
class StepResult:
    """How many people reached a step, and the rate (with 95% interval) from the step before."""

    step: FunnelStep
    reached: int
    dropped: int  # reached the step before, not this one
    rate: float | None  # reached / reached the step before; None for the first step
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Funnel:
    """An ordered funnel's steps and its bottleneck: the step that loses the largest share."""

    steps: list[StepResult]
    window: timedelta
    bottleneck: int | None  # index of the step with the lowest rate from the step before


def check_steps(steps: Sequence[FunnelStep], window: timedelta) -> None:
    """InvalidInput naming each problem: too few or many steps, a bad type, a bad window."""
    problems = []
    if not 2 <= len(steps) <= MAX_STEPS:
        problems.append(FieldProblem("steps", f"a funnel has 2 to {MAX_STEPS} steps"))
    for i, step in enumerate(steps[:MAX_STEPS]):
        if not step.type or len(step.type) > 64:
            problems.append(FieldProblem(f"steps[{i}].type", "an event type of 1-64 characters"))
    if window <= timedelta(0):
        problems.append(FieldProblem("window", "must be longer than zero"))
    if problems:
        raise InvalidInput(f"invalid funnel: {problems[0].path}: {problems[0].problem}", problems)


def people_events(scope: Scoped, since: datetime | None, until: datetime | None) -> ir.Table:
    """Human events with a person: the stitched contact, else the anonymous id."""
    events = scope.stitched
    events = events.filter(~events.is_machine.fill_null(False))
    if since is not None:
        events = events.filter(events.ts >= since)
    if until is not None:
        events = events.filter(events.ts < until)
    person = ibis.coalesce(events.contact_id, events.anonymous_id)
    return events.mutate(person=person).filter(lambda t: t.person.notnull())


def _matches(events: ir.Table, step: FunnelStep) -> ir.BooleanValue:
    condition = events.type == step.type
    if step.url_contains is not None:
        condition &= events.url.contains(step.url_contains).fill_null(False)
    return condition


def funnel_expression(
    scope: Scoped,
    steps: Sequence[FunnelStep],
    window: timedelta,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ir.Table:
    """One query: ``step`` (0-based) and ``reached`` per step.

    A person enters at their first step-1 event; each later step counts at its first event at
    or after the previous step's, no later than the entry plus ``window``.
    """
    events = people_events(scope, since, until)
    first = events.filter(_matches(events, steps[0]))
    stage = first.group_by("person").aggregate(entered=first.ts.min())
    stage = stage.mutate(at=stage.entered)
    counts = [stage.aggregate(step=ibis.literal(0), reached=stage.count())]
    seconds = int(window.total_seconds())
    for index, step in enumerate(steps[1:], start=1):
        hits = events.filter(_matches(events, step)).select(hit_person="person", hit_ts="ts")
        joined = stage.inner_join(
            hits,
            [
                stage.person == hits.hit_person,
                hits.hit_ts >= stage.at,
                hits.hit_ts <= stage.entered + ibis.interval(seconds=seconds),
            ],
        )
        stage = joined.group_by(["person", "entered"]).aggregate(at=joined.hit_ts.min())
        counts.append(stage.aggregate(step=ibis.literal(index), reached=stage.count()))
    return ibis.union(*counts, distinct=False)


def funnel(
    scope: Scoped,
    steps: Sequence[FunnelStep],
    window: timedelta,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Funnel:
    """The funnel's counts, drop-offs, step rates with Wilson 95% intervals, and bottleneck."""
    check_steps(steps, window)
    rows = funnel_expression(scope, steps, window, since=since, until=until).to_pyarrow()
    reached = dict.fromkeys(range(len(steps)), 0)
    for record in rows.to_pylist():
        reached[int(record["step"])] = int(record["reached"])
    results, previous = [], None
    for index, step in enumerate(steps):
        count = reached[index]
        if previous is None:
            results.append(StepResult(step, count, 0, None, None, None))
        else:
            rate, low, high = wilson_interval(count, previous) or (None, None, None)
            results.append(StepResult(step, count, previous - count, rate, low, high))
        previous = count
    rated = [(r.rate, i) for i, r in enumerate(results) if r.rate is not None]
    bottleneck = min(rated)[1] if rated else None
    return Funnel(results, window, bottleneck)
