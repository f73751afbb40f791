"""Batches: validate rows (dicts or a pyarrow Table) and convert them to one Arrow table."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from clarion.core.errors import FieldProblem, InvalidInput
from clarion.stores.events.schema import TableSpec

Rows: TypeAlias = Sequence[Mapping[str, Any]] | pa.Table

# Enough problems to fix a systematic mistake without drowning the caller in a 200k-row batch.
MAX_PROBLEMS = 20


class _Problems:
    """Collects field problems, keeping the first few and counting the rest."""

    def __init__(self) -> None:
        self.kept: list[FieldProblem] = []
        self.total = 0

    def add(self, row: int | None, field: str, problem: str) -> None:
        self.total += 1
        if len(self.kept) < MAX_PROBLEMS:
            path = field if row is None else f"rows[{row}].{field}"
            self.kept.append(FieldProblem(path, problem))

    def raise_if_any(self, table: str) -> None:
        if not self.total:
            return
        first = self.kept[0]
        more = f" (and {self.total - 1} more)" if self.total > 1 else ""
        raise InvalidInput(
            f"batch for {table} rejected, nothing written: {first.path}: {first.problem}{more}",
            self.kept,
            source=table,
        )


def to_arrow(spec: TableSpec, rows: Rows, stamp: datetime) -> pa.Table:
    """The batch as an Arrow table in ``spec``'s schema; InvalidInput if any row is wrong."""
    if isinstance(rows, pa.Table):
        return _from_arrow(spec, rows, stamp)
    fast = _fast_from_dicts(spec, rows, stamp)
    return fast if fast is not None else _from_dicts(spec, rows, stamp)


def columns_to_arrow(spec: TableSpec, columns: Mapping[str, list[Any]]) -> pa.Table:
    """Checked columns (instants as epoch microseconds) as an Arrow table in ``spec``'s schema.

    For producers that already checked every value (the collector's plain batches): the
    columns go to Arrow without the per-row checks; missing columns are null, and a value
    Arrow refuses still raises. ``to_arrow`` checks the result again, column by column.
    """
    count = len(next(iter(columns.values()))) if columns else 0
    arrays = []
    for field in spec.arrow_schema:
        values = columns.get(field.name)
        if values is None:
            arrays.append(pa.nulls(count, field.type))
        elif pa.types.is_timestamp(field.type):
            arrays.append(pa.array(values, pa.int64()).cast(field.type))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=spec.arrow_schema)


def _is_json_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def _clean_column(spec: TableSpec, name: str, values: list[Any]) -> bool:
    """No doubt about this column: required values present, instants aware, JSON valid."""
    dtype = spec.types[name]
    if name in spec.required and name != spec.stamp and None in values:
        return False
    if dtype.is_timestamp():
        return all(v is None or (isinstance(v, datetime) and v.tzinfo is not None) for v in values)
    if dtype.is_date():
        return not any(isinstance(v, datetime) for v in values)
    if name in spec.json_columns:
        return all(v is None or _is_json_text(v) for v in values)
    return True


def _fast_from_dicts(
    spec: TableSpec, rows: Sequence[Mapping[str, Any]], stamp: datetime
) -> pa.Table | None:
    """The common case, a batch with nothing wrong, converted by Arrow in one call.

    About six times cheaper than the column-by-column checks of ``_from_dicts``; any doubt
    (an unknown column, a missing required value, a naive datetime, a dict to encode, a value
    Arrow refuses) returns None, and the careful path then names every problem.
    """
    known = spec.types.keys()
    if not all(isinstance(row, Mapping) and row.keys() <= known for row in rows):
        return None
    checked = [
        name
        for name, dtype in spec.types.items()
        if name in spec.required or name in spec.json_columns or dtype.is_temporal()
    ]
    if not all(_clean_column(spec, n, [row.get(n) for row in rows]) for n in checked):
        return None
    try:
        table = pa.Table.from_pylist(list(rows), schema=spec.arrow_schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        return None
    if spec.stamp is not None:
        index = table.schema.get_field_index(spec.stamp)
        field = table.schema.field(index)
        filled = pc.fill_null(table.column(index), pa.scalar(stamp, type=field.type))
        table = table.set_column(index, field, filled)
    return table


def _from_dicts(spec: TableSpec, rows: Sequence[Mapping[str, Any]], stamp: datetime) -> pa.Table:
    problems = _Problems()
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            kind = type(row).__name__
            problems.add(index, "*", f"expected a mapping of column to value, got {kind}")
    problems.raise_if_any(spec.name)
    known = spec.types.keys()
    for index, row in enumerate(rows):
        if not row.keys() <= known:
            for name in sorted(set(row.keys()) - set(known), key=str):
                problems.add(index, str(name), f"unknown column of table {spec.name}")

    # Column by column: one list comprehension and one pa.array call each, which is what makes
    # a 200k-row batch cheap. The checks below return nulls for a column once they have noted
    # its problems, so the Arrow conversion does not report the same value a second time.
    arrays = []
    for name, dtype in spec.types.items():
        values = [row.get(name) for row in rows]
        if name == spec.stamp:
            values = [stamp if value is None else value for value in values]
        elif name in spec.required and None in values:
            for index in (i for i, value in enumerate(values) if value is None):
                problems.add(index, name, "required")
        if name in spec.json_columns:
            values = _encode_json(name, values, problems)
        elif dtype.is_timestamp():
            values = _check_instants(name, values, problems)
        elif dtype.is_date():
            values = _check_days(name, values, problems)
        arrays.append(_column(spec, name, values, problems))
    problems.raise_if_any(spec.name)
    return pa.Table.from_arrays(arrays, schema=spec.arrow_schema)


_encode = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps without its per-call setup


def _encode_json(name: str, values: list[Any], problems: _Problems) -> list[Any]:
    encoded: list[Any] = []
    for index, value in enumerate(values):
        if value is None or isinstance(value, dict | list):
            try:
                encoded.append(None if value is None else _encode(value))
            except (TypeError, ValueError) as error:
                problems.add(index, name, f"cannot be encoded as JSON: {error}")
                encoded.append(None)
        elif isinstance(value, str):
            # A string is taken as JSON already encoded; it must parse, or queries break later.
            try:
                json.loads(value)
            except ValueError:
                problems.add(index, name, "a string here must be valid JSON")
            encoded.append(value)
        else:
            problems.add(index, name, "expected a dict, a list or a JSON string")
            encoded.append(None)
    return encoded


def _check_instants(name: str, values: list[Any], problems: _Problems) -> list[Any]:
    # Naive datetimes are refused rather than assumed UTC: a local time taken for UTC shifts
    # every daily metric by hours and nothing downstream could tell.
    try:
        zones = {value.tzinfo for value in values if value is not None}
    except AttributeError:  # something without a tzinfo: not a datetime
        zones = {None}
    if None not in zones:
        return values  # the common case, decided in one pass
    before = problems.total
    for index, value in enumerate(values):
        if value is None:
            continue
        if not isinstance(value, datetime):
            problems.add(index, name, "expected a timezone-aware datetime")
        elif value.tzinfo is None or value.utcoffset() is None:
            problems.add(index, name, "datetime must be timezone-aware")
    return values if problems.total == before else [None] * len(values)


def _check_days(name: str, values: list[Any], problems: _Problems) -> list[Any]:
    # Arrow would truncate a datetime to its UTC day silently; which day is meant is the
    # caller's decision (ad platforms report in the account's time zone).
    before = problems.total
    for index, value in enumerate(values):
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            problems.add(index, name, "expected a date (not a datetime)")
    return values if problems.total == before else [None] * len(values)


def _column(spec: TableSpec, name: str, values: list[Any], problems: _Problems) -> pa.Array:
    field = spec.arrow_schema.field(name)
    try:
        return pa.array(values, type=field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        pass
    # Slow path, only for a batch that is already failing or needs coercion: convert value by
    # value to find the offending rows, and coerce what is unambiguous (Decimal -> float).
    coerced = []
    for index, raw in enumerate(values):
        value = _coerce(raw, field.type)
        try:
            pa.array([value], type=field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
            problems.add(index, name, f"expected {_describe(field.type)}, got {raw!r:.60}")
            value = None
        coerced.append(value)
    return pa.array(coerced, type=field.type)


def _coerce(value: Any, arrow_type: pa.DataType) -> Any:
    if isinstance(value, Decimal) and pa.types.is_floating(arrow_type):
        return float(value)
    return value


def _describe(arrow_type: pa.DataType) -> str:
    if pa.types.is_string(arrow_type):
        return "a string"
    if pa.types.is_integer(arrow_type):
        return "an integer"
    if pa.types.is_floating(arrow_type):
        return "a number"
    if pa.types.is_date(arrow_type):
        return "a date"
    if pa.types.is_timestamp(arrow_type):
        return "a timezone-aware datetime"
    return str(arrow_type)


def _from_arrow(spec: TableSpec, batch: pa.Table, stamp: datetime) -> pa.Table:
    # Columnar input is checked per column (names, nulls, types, time zones); its JSON strings
    # are taken as encoded, as parsing each one would cost what the Arrow path saves.
    problems = _Problems()
    _check_arrow(spec, batch, problems)
    problems.raise_if_any(spec.name)
    stamp_nulls = spec.stamp not in batch.column_names or batch.column(spec.stamp).null_count
    if batch.schema.equals(spec.arrow_schema) and not stamp_nulls:
        return batch  # already the table's own batch (``columns_to_arrow``): nothing to cast
    arrays = []
    for field in spec.arrow_schema:
        if field.name not in batch.column_names:
            fill = stamp if field.name == spec.stamp else None
            arrays.append(pa.repeat(pa.scalar(fill, type=field.type), batch.num_rows))
            continue
        try:
            column = batch.column(field.name).cast(field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
            problems.add(None, field.name, f"cannot convert to {_describe(field.type)}: {error}")
            continue
        if field.name == spec.stamp and column.null_count:
            column = pc.fill_null(column, pa.scalar(stamp, type=field.type))
        arrays.append(column)
    problems.raise_if_any(spec.name)
    return pa.Table.from_arrays(arrays, schema=spec.arrow_schema)


def _check_arrow(spec: TableSpec, batch: pa.Table, problems: _Problems) -> None:
    for name in batch.column_names:
        if name not in spec.types:
            problems.add(None, name, f"unknown column of table {spec.name}")
        elif (
            pa.types.is_timestamp(arrow_type := batch.schema.field(name).type) and not arrow_type.tz
        ):
            problems.add(None, name, "timestamp column must be timezone-aware")
    for name in sorted(spec.required):
        if name not in batch.column_names:
            problems.add(None, name, "required column missing")
        elif batch.column(name).null_count:
            first = pc.index(pc.is_null(batch.column(name)), True).as_py()
            problems.add(first, name, "required")
