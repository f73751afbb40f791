"""Any metric by any dimension: check the request, run the compiled queries, attach errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from typing import Any, cast

import ibis
import ibis.expr.types as ir
from ibis.backends.duckdb import Backend as DuckDBBackend

from clarion.analytics.compile import Where, compile_metrics
from clarion.analytics.contracts import MetricRow, Sums
from clarion.analytics.dictionary import DEFINITIONS, NOT_DEFINED
from clarion.analytics.estimates import estimates
from clarion.analytics.scope import Scoped
from clarion.analytics.sources import DIMENSIONS, Dimension
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.core.metrics import METRICS

MAX_METRICS = 64  # more names than the dictionary holds is a mistake, not a request

Runner = Callable[[ir.Table], Any]  # runs an expression, returns a pyarrow Table


def run_here(expression: ir.Table) -> Any:
    """Run on the backend the expression's tables belong to (DuckDB, Spark...).

    On DuckDB the SQL of an expression is remembered: Ibis takes 60-140 ms to compile a KPI
    table, and a dashboard asks the same one again and again (the expression only changes
    when the question, or the send facts' mark, does).
    """
    backend = ibis.get_backend(expression)
    if isinstance(backend, DuckDBBackend):
        table = backend.con.sql(duckdb_sql(expression.op(), backend)).to_arrow_table()
        return table.cast(expression.schema().to_pyarrow())  # Ibis's types (a week is a date)
    return expression.to_pyarrow()


@lru_cache(maxsize=64)
def duckdb_sql(operation: Any, backend: DuckDBBackend) -> str:
    """The SQL of an Ibis expression (its operation, equal for equal expressions)."""
    return str(backend.compile(operation.to_expr()))


def check_request(metrics: Sequence[str], by: Sequence[str]) -> tuple[str, ...]:
    """The metrics and dimensions if Clarion can compute them; InvalidInput naming each problem."""
    problems = []
    if not metrics:
        problems.append(FieldProblem("metrics", "name at least one metric"))
    if len(metrics) > MAX_METRICS:
        problems.append(FieldProblem("metrics", f"at most {MAX_METRICS} metrics"))
    for name in metrics[:MAX_METRICS]:
        shown = name[:64]
        if name in NOT_DEFINED:
            problems.append(FieldProblem("metrics", f"{shown}: {NOT_DEFINED[name]}"))
        elif name not in DEFINITIONS:
            hint = "" if name in METRICS else f"; known: {', '.join(DEFINITIONS)}"
            problems.append(FieldProblem("metrics", f"unknown metric {shown!r}{hint}"))
    for name in by[: len(DIMENSIONS) + 1]:
        if name not in DIMENSIONS:
            problems.append(
                FieldProblem(
                    "by", f"unknown dimension {name[:64]!r}; known: {', '.join(DIMENSIONS)}"
                )
            )
    if len(set(by)) != len(by):
        problems.append(FieldProblem("by", "a dimension is named twice"))
    if problems:
        first = problems[0]
        raise InvalidInput(f"cannot compute metrics: {first.path}: {first.problem}", problems)
    return tuple(dict.fromkeys(metrics))


def metric_rows(
    scope: Scoped,
    metrics: Sequence[str],
    by: Sequence[str],
    *,
    campaign_refs: tuple[str, ...] | None = None,
    since: date | None = None,
    until: date | None = None,
    run: Runner = run_here,
) -> list[MetricRow]:
    """Each metric by the dimensions ``by``, one row per group seen, sorted by group.

    ``run`` executes each compiled query; the backends lane passes one that prints the
    expression as ClickHouse SQL and runs it in chDB.
    """
    names = check_request(metrics, by)
    dims = cast(tuple[Dimension, ...], tuple(by))
    definitions = [DEFINITIONS[name] for name in names]
    where = Where(campaign_refs, since, until)
    found: dict[tuple[Any, ...], dict[str, Sums]] = {}
    compiled = compile_metrics(scope, definitions, dims, where)
    by_part: dict[int, list[str]] = {}
    for name, slot in compiled.slots.items():
        by_part.setdefault(slot.part, []).append(name)
    for record in run(compiled.expression).to_pylist():
        sums = found.setdefault(tuple(record[d] for d in dims), {})
        for name in by_part.get(record["part"], []):
            sums[name] = compiled.slots[name].sums(record)
    groups = sorted(found, key=lambda g: tuple(str(v) for v in g))
    columns = {
        name: estimates(DEFINITIONS[name], [found[g].get(name, _EMPTY) for g in groups])
        for name in names
    }
    return [
        MetricRow(
            group={d: str(v) for d, v in zip(dims, group, strict=True)},
            metrics={name: columns[name][i] for name in names},
        )
        for i, group in enumerate(groups)
    ]


_EMPTY = Sums(0, 0.0, 0.0, 0.0, 0.0, 0.0)
