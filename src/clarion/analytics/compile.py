"""Compile metric definitions to Ibis: one query per source and unit, sufficient statistics out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from clarion.analytics.dictionary import Measure, MetricDefinition
from clarion.analytics.scope import Scoped
from clarion.analytics.sources import SOURCES, Dimension, SourceName

SUMS = ("n", "num_sum", "num_sum_squares", "den_sum", "den_sum_squares", "sum_products")


@dataclass(frozen=True)
class Where:
    """Which facts count: a campaign (its id and key), and days from ``since`` to ``until``."""

    campaign_refs: tuple[str, ...] | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Compiled:
    """One Ibis expression giving sums per group, and the metrics whose sums it holds."""

    expression: ir.Table
    metrics: tuple[str, ...]  # columns are f"{metric}__{sum}" for each sum in SUMS


def _facts(scope: Scoped, source: SourceName, where: Where, keys: Sequence[str]) -> ir.Table:
    table = SOURCES[source](scope, frozenset(keys))
    if where.campaign_refs is not None:
        table = table.filter(table.campaign.isin(list(where.campaign_refs)))
    if where.since is not None:
        table = table.filter(table.day >= where.since)
    if where.until is not None:
        table = table.filter(table.day <= where.until)
    return table


def _units(
    facts: ir.Table, keys: Sequence[str], unit: str | None, values: dict[str, Measure]
) -> ir.Table:
    """One row per unit (per row when ``unit`` is None) with each measure's value."""
    if unit is None:
        return facts.select(*keys, **{name: m.value(facts) for name, m in values.items()})
    return facts.group_by([*keys, unit]).aggregate(
        **{name: m.value(facts) for name, m in values.items()}
    )


def _sums(units: ir.Table, by: Sequence[str], pairs: dict[str, tuple[str, str | None]]) -> ir.Table:
    """n, Σx, Σx², Σy, Σy², Σxy per group, for each metric's (numerator, denominator) columns."""
    aggregates: dict[str, Any] = {}
    for name, (num_column, den_column) in pairs.items():
        num = units[num_column].cast("float64")
        aggregates[f"{name}__n"] = units.count()
        aggregates[f"{name}__num_sum"] = num.sum()
        aggregates[f"{name}__num_sum_squares"] = (num * num).sum()
        if den_column is None:  # a total: the denominator is 1 per unit
            aggregates[f"{name}__den_sum"] = units.count().cast("float64")
            aggregates[f"{name}__den_sum_squares"] = units.count().cast("float64")
            aggregates[f"{name}__sum_products"] = num.sum()
            continue
        den = units[den_column].cast("float64")
        aggregates[f"{name}__den_sum"] = den.sum()
        aggregates[f"{name}__den_sum_squares"] = (den * den).sum()
        aggregates[f"{name}__sum_products"] = (num * den).sum()
    if by:
        return units.group_by(list(by)).aggregate(**aggregates)
    return units.aggregate(**aggregates)


def _same_units(
    scope: Scoped,
    definitions: Sequence[MetricDefinition],
    by: Sequence[str],
    where: Where,
) -> Compiled:
    first = definitions[0].numerator
    facts = _facts(scope, first.source, where, by)
    values: dict[str, Measure] = {}
    pairs: dict[str, tuple[str, str | None]] = {}
    for d in definitions:
        values[f"{d.name}__x"] = d.numerator
        if d.denominator is not None:
            values[f"{d.name}__y"] = d.denominator
        pairs[d.name] = (f"{d.name}__x", None if d.denominator is None else f"{d.name}__y")
    units = _units(facts, by, first.unit, values)
    return Compiled(_sums(units, by, pairs), tuple(d.name for d in definitions))


def _day_cells(
    scope: Scoped,
    definitions: Sequence[MetricDefinition],
    by: Sequence[str],
    where: Where,
) -> Compiled:
    """Numerator and denominator from different sources meet in day cells (group × day)."""
    keys = [*by, *(["day"] if "day" not in by else [])]
    measures: dict[tuple[SourceName, str | None], dict[str, Measure]] = defaultdict(dict)
    pairs: dict[str, tuple[str, str | None]] = {}
    for d in definitions:
        assert d.denominator is not None  # a total always has the same units
        measures[(d.numerator.source, d.numerator.unit)][f"{d.name}__x"] = d.numerator
        measures[(d.denominator.source, d.denominator.unit)][f"{d.name}__y"] = d.denominator
        pairs[d.name] = (f"{d.name}__x", f"{d.name}__y")
    columns = [column for values in measures.values() for column in values]
    parts = []
    for (source, unit), values in measures.items():
        units = _units(_facts(scope, source, where, keys), keys, unit, values)
        cells = units.group_by(keys).aggregate(
            **{c: units[c].cast("float64").sum() for c in values}
        )
        zero = ibis.literal(0.0)
        # Keys may be NOT NULL in one source and nullable in another; a union needs one type.
        aligned = {k: cells[k].cast(cells[k].type().copy(nullable=True)) for k in keys}
        parts.append(
            cells.select(**aligned, **{c: cells[c] if c in values else zero for c in columns})
        )
    union = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    cells = union.group_by(keys).aggregate(**{c: union[c].sum() for c in columns})
    return Compiled(_sums(cells, by, pairs), tuple(d.name for d in definitions))


def compile_metrics(
    scope: Scoped,
    definitions: Sequence[MetricDefinition],
    by: Sequence[Dimension],
    where: Where,
) -> list[Compiled]:
    """The fewest queries that give every metric's sums by ``by``: one per source and unit.

    A metric whose numerator and denominator come from different sources (CPA: cost from ad
    spend, conversions from events) is computed over day cells, where both are summed.
    """
    groups: dict[tuple[SourceName, str | None], list[MetricDefinition]] = defaultdict(list)
    crossing = []
    for d in definitions:
        if d.same_units:
            groups[(d.numerator.source, d.numerator.unit)].append(d)
        else:
            crossing.append(d)
    compiled = [_same_units(scope, group, by, where) for group in groups.values()]
    if crossing:
        compiled.append(_day_cells(scope, crossing, by, where))
    return compiled
