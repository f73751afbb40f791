"""The event store's tables on other engines: local Spark through Ibis, ClickHouse SQL in chDB."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from clarion.stores.events import EventStore
from clarion.stores.events.schema import TABLES


class Tables:
    """What analytics reads of an EventStore (``table(name)``), over another engine's tables."""

    def __init__(self, tables: dict[str, Any]) -> None:
        self._tables = tables

    def table(self, name: str) -> Any:
        return self._tables[name]


def copied(store: EventStore) -> dict[str, pa.Table]:
    """Every table of ``store`` as Arrow, with the store's own schema."""
    return {name: store.table(name).to_pyarrow() for name in TABLES}


def spark_session() -> Any:
    """A small local Spark session in UTC (one core, one shuffle partition, no UI)."""
    from pyspark.sql import SparkSession  # noqa: PLC0415 - only the Spark lane needs it

    return (
        SparkSession.builder.master("local[1]")
        .appName("clarion-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )


def spark_tables(session: Any, data: dict[str, pa.Table]) -> Tables:
    """The tables as Spark temporary views, read through ``ibis.pyspark``."""
    from ibis.backends.pyspark.datatypes import PySparkSchema  # noqa: PLC0415

    con = ibis.pyspark.connect(session)
    tables = {}
    for name, table in data.items():
        schema = PySparkSchema.from_ibis(TABLES[name].schema)
        rows = table.to_pylist()
        session.createDataFrame(rows, schema=schema).createOrReplaceTempView(name)
        tables[name] = con.table(name)
    return Tables(tables)


def unbound_tables() -> Tables:
    """Tables that belong to no engine: expressions over them compile to any SQL dialect."""
    return Tables({name: ibis.table(spec.schema, name=name) for name, spec in TABLES.items()})


def chdb_runner(folder: Path, data: dict[str, pa.Table]) -> Callable[[Any], pa.Table]:
    """Load the tables into an in-process ClickHouse (chDB); return a runner that prints an
    Ibis expression as ClickHouse SQL and executes it there."""
    from chdb import session as chdb_session  # noqa: PLC0415 - only the chDB lane needs it

    engine = chdb_session.Session(str(folder / "chdb"))
    # SQL semantics for outer joins (NULL, not a default value, where nothing matched), as
    # Ibis' own ClickHouse backend sets for its connections.
    engine.query("SET join_use_nulls = 1")
    for name, table in data.items():
        path = folder / f"{name}.parquet"
        pq.write_table(table, path)
        columns = ", ".join(
            f"`{column}` {_clickhouse_type(str(dtype))}"
            for column, dtype in TABLES[name].schema.items()
        )
        engine.query(f"DROP TABLE IF EXISTS `{name}`")
        engine.query(f"CREATE TABLE `{name}` ({columns}) ENGINE = MergeTree ORDER BY tuple()")
        engine.query(f"INSERT INTO `{name}` SELECT * FROM file('{path}', Parquet)")

    def run(expression: Any) -> pa.Table:
        sql = ibis.to_sql(expression, dialect="clickhouse")
        result: pa.Table = engine.query(str(sql), "ArrowTable")
        return result

    return run


def _clickhouse_type(ibis_type: str) -> str:
    nullable = not ibis_type.startswith("!")
    base = ibis_type.lstrip("!")
    mapped = {
        "string": "String",
        "float64": "Float64",
        "int64": "Int64",
        "boolean": "Bool",
        "date": "Date32",
    }.get(base, "DateTime64(6, 'UTC')" if base.startswith("timestamp") else base)
    return f"Nullable({mapped})" if nullable else mapped
