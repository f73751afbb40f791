"""Open the app store: an engine tuned per database, and schema checks against migrations."""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Connection, Engine, Select, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

_ANALYSIS_LIMIT: Final = 20_000  # rows read per index by ANALYZE (see refresh_statistics)
_TABLE_NAME: Final = re.compile(r"[a-z_][a-z0-9_]*")


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see _begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA mmap_size=268435456")  # reads without a pread per page
    cursor.close()


def _begin(conn: Connection) -> None:
    # Writers take SQLite's write lock at BEGIN, so two writers queue (busy_timeout) instead of
    # one failing mid-transaction; readers take no lock at all.
    readonly = conn.get_execution_options().get("clarion_readonly", False)
    conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


class _OneRowRead:
    """A one-row read compiled once for a dialect, run on a bare driver connection.

    The same SQL, bound values and column types SQLAlchemy would use, without its per-call
    machinery (connection events, the execution context, the result object): about 50 µs
    instead of 180 µs on SQLite, for the tracking endpoints' lookup of a message by id.
    """

    def __init__(self, engine: Engine, statement: Select[Any]) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self._engine = engine
        self._sql = str(compiled)
        self._order = compiled.positiontup  # None: the driver takes named parameters
        self._binds = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        columns = list(statement.selected_columns)
        self._results = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ]
        self._row: Any = namedtuple("Row", [c.key for c in columns])  # type: ignore[misc]

    def __call__(self, params: Mapping[str, Any]) -> Any:
        values = {
            name: (convert(value) if (convert := self._binds.get(name)) else value)
            for name, value in params.items()
        }
        bound: Any = values if self._order is None else [values[n] for n in self._order]
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self._sql, bound)
                row = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool, which rolls back whatever was begun
        if row is None:
            return None
        return self._row._make(
            convert(value) if convert else value
            for convert, value in zip(self._results, row, strict=True)
        )


@dataclass
class AppStore:
    """The app store's engine and its transactions."""

    engine: Engine
    _reads: dict[Select[Any], _OneRowRead] = field(default_factory=dict, repr=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic unit of work: committed on success, rolled back on any error."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads only."""
        with self.engine.connect().execution_options(clarion_readonly=True) as conn:
            yield conn

    def read_one(self, statement: Select[Any], params: Mapping[str, Any]) -> Any:
        """The first row of a read-only ``statement`` built once at import (its columns by
        name), or None: for lookups on a hot path, where SQLAlchemy's per-call work costs
        several times the query. Each call is its own snapshot."""
        read = self._reads.get(statement)
        if read is None:
            read = self._reads[statement] = _OneRowRead(self.engine, statement)
        return read(params)

    def refresh_statistics(self, tables: Sequence[str]) -> None:
        """Let the query planner see how large ``tables`` have grown (after a bulk write).

        Without statistics SQLite guesses, and for ``workspace_id = ? AND id IN (...)`` it
        guesses the workspace's index: every lookup of 64 contacts then read all of them
        (8 ms instead of 0.1 ms on 10,000 contacts). ``analysis_limit`` bounds the rows read
        per index, so this costs milliseconds at any size; it must stay well above the longest
        ``IN`` list (900), or the workspace looks as small as the sample and wins again.
        PostgreSQL samples its tables on its own terms.
        """
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql(f"PRAGMA analysis_limit={_ANALYSIS_LIMIT}")
            for table in tables:
                if not _TABLE_NAME.fullmatch(table):
                    raise ValueError(f"not a table name: {table!r}")
                conn.exec_driver_sql(f"ANALYZE {table}")
            conn.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def open_app_store(url: str, *, echo: bool = False) -> AppStore:
    """Create the engine for ``url`` (SQLite file or PostgreSQL); no tables are touched."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            # Connections are kept and reused: opening one costs four PRAGMAs, and closing the
            # last one checkpoints the WAL, which per transaction halved the sender's rate.
            poolclass=QueuePool,
            pool_size=8,
            max_overflow=24,
            connect_args={"check_same_thread": False},
        )
        event.listen(engine, "connect", _tune_sqlite)
        # pysqlite's own BEGIN handling is replaced by ours (see SQLAlchemy's SQLite docs).
        event.listen(engine, "begin", _begin)
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True)
    return AppStore(engine)
