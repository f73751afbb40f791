"""Attribution: who gets credit for each conversion, by six models over the same touches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, get_args

import ibis
import ibis.expr.types as ir

from clarion.analytics.funnels import people_events
from clarion.analytics.paths import Label
from clarion.analytics.scope import Scoped
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.stats.markov import CONVERSION, NULL, START, removal_effects

Model = Literal["first_touch", "last_touch", "linear", "time_decay", "position_based", "markov"]
MODELS: Final[tuple[Model, ...]] = get_args(Model)
DIRECT: Final = "(direct)"  # a conversion without a touch in the lookback window
POSITION_ENDS: Final = 0.4  # position-based: 40% first, 40% last, 20% spread over the middle


@dataclass(frozen=True)
class Credit:
    """What one label (a channel, a source) earns under one model."""

    label: str
    conversions: float
    revenue: float


@dataclass(frozen=True)
class Attribution:
    """Credit per label under every model, for the same conversions and touches."""

    conversions: int
    revenue: float
    lookback: timedelta
    models: dict[str, list[Credit]]  # model -> credits, largest first
    conversion_probability: float  # of the Markov chain (journeys that convert)


def _check(label: str, lookback: timedelta, half_life: timedelta) -> None:
    problems = []
    if label not in get_args(Label):
        problems.append(FieldProblem("label", f"one of {', '.join(get_args(Label))}"))
    if lookback <= timedelta(0):
        problems.append(FieldProblem("lookback", "must be longer than zero"))
    if half_life <= timedelta(0):
        problems.append(FieldProblem("half_life", "must be longer than zero"))
    if problems:
        raise InvalidInput(
            f"invalid attribution: {problems[0].path}: {problems[0].problem}", problems
        )


def _touches(events: ir.Table, label: str) -> ir.Table:
    touches = events.filter(events.type != "conversion")
    return touches.mutate(touch=touches[label].cast("string")).filter(lambda t: t.touch.notnull())


def weighted_touches(
    scope: Scoped,
    *,
    label: str,
    lookback: timedelta,
    half_life: timedelta,
    since: datetime | None,
    until: datetime | None,
) -> ir.Table:
    """One row per (conversion, touch in its lookback window) with each rule model's weight.

    A conversion without a touch keeps one row with the label DIRECT and weight 1 everywhere.
    """
    events = people_events(scope, since, until)
    conversions = events.filter(events.type == "conversion").select(
        conversion_id="event_id",
        converter="person",
        converted_at="ts",
        value=events.revenue.fill_null(0.0),
    )
    touches = _touches(people_events(scope, None, until), label).select(
        touch_person="person", touch_ts="ts", touch="touch"
    )
    seconds = int(lookback.total_seconds())
    joined = conversions.left_join(
        touches,
        [
            conversions.converter == touches.touch_person,
            touches.touch_ts <= conversions.converted_at,
            touches.touch_ts > conversions.converted_at - ibis.interval(seconds=seconds),
        ],
    )
    order = ibis.window(group_by=joined.conversion_id, order_by=[joined.touch_ts, joined.touch])
    whole = ibis.window(group_by=joined.conversion_id)
    ranked = joined.mutate(
        position=ibis.row_number().over(order),
        touches=joined.touch_ts.count().over(whole),
        age=(joined.converted_at.epoch_seconds() - joined.touch_ts.epoch_seconds()),
    )
    n = ranked.touches.cast("float64")
    first = ranked.position == 0
    last = ranked.position == ranked.touches - 1
    decay = (ibis.literal(0.5) ** (ranked.age / half_life.total_seconds())).fill_null(1.0)
    middle = (1.0 - 2 * POSITION_ENDS) / (n - 2)
    position_based = ibis.cases(
        (ranked.touches <= 1, 1.0),
        (ranked.touches == 2, 0.5),
        (first | last, POSITION_ENDS),
        else_=middle,
    )
    weighted = ranked.mutate(
        touch=ibis.ifelse(ranked.touches == 0, DIRECT, ranked.touch),
        first_touch=ibis.ifelse((ranked.touches == 0) | first, 1.0, 0.0),
        last_touch=ibis.ifelse((ranked.touches == 0) | last, 1.0, 0.0),
        linear=ibis.ifelse(ranked.touches == 0, 1.0, 1.0 / n),
        position_based=position_based,
        decay=decay,
    )
    total_decay = weighted.decay.sum().over(ibis.window(group_by=weighted.conversion_id))
    return weighted.mutate(time_decay=weighted.decay / total_decay)


def _rule_credits(weighted: ir.Table) -> dict[str, list[Credit]]:
    rules = ("first_touch", "last_touch", "linear", "time_decay", "position_based")
    sums = weighted.group_by("touch").aggregate(
        **{f"{m}__c": weighted[m].sum() for m in rules},
        **{f"{m}__r": (weighted[m] * weighted.value).sum() for m in rules},
    )
    rows = sums.to_pyarrow().to_pylist()
    return {m: _ranked(Credit(r["touch"], r[f"{m}__c"], r[f"{m}__r"]) for r in rows) for m in rules}


def _ranked(credits: Iterable[Credit]) -> list[Credit]:
    return sorted(credits, key=lambda c: (-c.conversions, c.label))


def transition_counts(
    scope: Scoped,
    *,
    label: str,
    lookback: timedelta,
    since: datetime | None,
    until: datetime | None,
) -> dict[tuple[str, str], float]:
    """Moves between labels in people's journeys: a converter's up to the first conversion
    (touches within the lookback), anyone else's whole journey, START first and an end last."""
    events = people_events(scope, None if since is None else since - lookback, until)
    conversions = events.filter(events.type == "conversion")
    if since is not None:
        conversions = conversions.filter(conversions.ts >= since)
    converters = conversions.group_by(converter="person").aggregate(
        converted_at=conversions.ts.min()
    )
    touches = _touches(events, label)
    joined = touches.left_join(converters, touches.person == converters.converter)
    seconds = int(lookback.total_seconds())
    kept = joined.filter(
        joined.converted_at.isnull()
        | (
            (joined.ts <= joined.converted_at)
            & (joined.ts > joined.converted_at - ibis.interval(seconds=seconds))
        )
    )
    window = ibis.window(group_by=kept.person, order_by=[kept.ts, kept.touch])
    previous = kept.touch.lag().over(window)
    collapsed = kept.filter(previous.isnull() | (previous != kept.touch))
    window = ibis.window(group_by=collapsed.person, order_by=[collapsed.ts, collapsed.touch])
    moves = collapsed.mutate(
        source=collapsed.touch.lag().over(window).fill_null(START),
        following=collapsed.touch.lead().over(window),
        converted=collapsed.converted_at.notnull(),
    )
    inner = moves.select(source="source", target="touch")
    ends = moves.filter(moves.following.isnull()).select(
        source="touch", target=ibis.ifelse(moves.converted, CONVERSION, NULL)
    )
    both = ibis.union(inner, ends, distinct=False)
    counted = both.group_by(["source", "target"]).aggregate(count=both.count())
    return {(r["source"], r["target"]): float(r["count"]) for r in counted.to_pyarrow().to_pylist()}


def attribute(
    scope: Scoped,
    *,
    label: Label = "channel",
    lookback: timedelta = timedelta(days=30),
    half_life: timedelta = timedelta(days=7),
    since: datetime | None = None,
    until: datetime | None = None,
) -> Attribution:
    """Credit for the conversions in [since, until) under all six models.

    Rule models share each conversion's touches in the lookback window; time decay halves a
    touch's weight every ``half_life`` before the conversion. The Markov model gives each label
    its removal effect's share of all conversions (and of revenue, in proportion).
    """
    _check(label, lookback, half_life)
    weighted = weighted_touches(
        scope, label=label, lookback=lookback, half_life=half_life, since=since, until=until
    )
    models: dict[str, list[Credit]] = _rule_credits(weighted)
    totals = weighted.group_by("conversion_id").aggregate(value=weighted.value.max())
    summary = totals.aggregate(n=totals.count(), revenue=totals.value.sum())
    (row,) = summary.to_pyarrow().to_pylist()
    count, revenue = int(row["n"]), float(row["revenue"] or 0.0)
    moves = transition_counts(scope, label=label, lookback=lookback, since=since, until=until)
    chain = removal_effects(moves)
    models["markov"] = _ranked(
        Credit(state, share * count, share * revenue) for state, share in chain.shares().items()
    )
    return Attribution(count, revenue, lookback, models, chain.conversion_probability)
