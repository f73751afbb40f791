"""Journeys: the most frequent paths to a conversion, and where people who never convert leave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, get_args

import ibis
import ibis.expr.types as ir

from clarion.analytics.funnels import people_events
from clarion.analytics.scope import Scoped
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.stats.wilson import wilson_interval

Label = Literal["channel", "type", "referrer_kind", "utm_source"]
NO_TOUCH: Final = "(no touch)"
SEPARATOR: Final = " > "


@dataclass(frozen=True)
class PathCount:
    """A path (touch labels, oldest first) and how many people followed it."""

    path: tuple[str, ...]
    people: int
    share: float  # of all people counted (converters for paths, leavers for exits)
    low: float = 0.0  # Wilson 95% interval of the share
    high: float = 0.0


def _check(label: str, max_touches: int, top: int) -> None:
    problems = []
    if label not in get_args(Label):
        problems.append(FieldProblem("label", f"one of {', '.join(get_args(Label))}"))
    if not 1 <= max_touches <= 20:
        problems.append(FieldProblem("max_touches", "between 1 and 20"))
    if not 1 <= top <= 1000:
        problems.append(FieldProblem("top", "between 1 and 1000"))
    if problems:
        raise InvalidInput(
            f"invalid path query: {problems[0].path}: {problems[0].problem}", problems
        )


def _counted(paths: ir.Table, top: int) -> list[PathCount]:
    counts = paths.group_by("path").aggregate(people=paths.count())
    total = paths.count().to_pyarrow().as_py()
    ranked = counts.order_by([ibis.desc("people"), "path"]).limit(top)
    found = []
    for record in ranked.to_pyarrow().to_pylist():
        people = int(record["people"])
        share, low, high = wilson_interval(people, total) or (0.0, 0.0, 0.0)
        found.append(PathCount(tuple(record["path"].split(SEPARATOR)), people, share, low, high))
    return found


def _collapsed(touches: ir.Table, label: str) -> ir.Table:
    """Touches with a label, a repeat of the previous label dropped (email, email → email)."""
    touches = touches.mutate(touch=touches[label].cast("string")).filter(
        lambda t: t.touch.notnull()
    )
    previous = touches.touch.lag().over(group_by=touches.person, order_by=touches.ts)
    return touches.filter(previous.isnull() | (previous != touches.touch))


def conversion_paths(
    scope: Scoped,
    *,
    label: Label = "channel",
    max_touches: int = 4,
    top: int = 10,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[PathCount]:
    """The most frequent last ``max_touches`` touches before each person's first conversion."""
    _check(label, max_touches, top)
    events = people_events(scope, since, until)
    conversions = events.filter(events.type == "conversion")
    converters = conversions.group_by(converter="person").aggregate(
        converted_at=conversions.ts.min()
    )
    before = events.filter(events.type != "conversion")
    before = before.inner_join(converters, before.person == converters.converter)
    touches = _collapsed(before.filter(before.ts <= before.converted_at), label)
    lists = touches.group_by("person").aggregate(labels=touches.touch.collect(order_by=touches.ts))
    joined = converters.left_join(lists, converters.converter == lists.person)
    text = joined.labels[-max_touches:].join(SEPARATOR)
    paths = joined.select(path=ibis.coalesce(text.nullif(""), ibis.literal(NO_TOUCH)))
    return _counted(paths, top)


def exits(
    scope: Scoped,
    *,
    label: Label = "type",
    max_touches: int = 2,
    top: int = 10,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[PathCount]:
    """Where people who never converted left: their last ``max_touches`` touches."""
    _check(label, max_touches, top)
    events = people_events(scope, since, until)
    converted = events.filter(events.type == "conversion").select(converter="person").distinct()
    leavers = events.anti_join(converted, events.person == converted.converter)
    touches = _collapsed(leavers, label)
    lists = touches.group_by("person").aggregate(labels=touches.touch.collect(order_by=touches.ts))
    paths = lists.select(path=lists.labels[-max_touches:].join(SEPARATOR))
    return _counted(paths, top)
