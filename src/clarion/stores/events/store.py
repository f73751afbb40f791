"""The event store: append-only facts written in batches and queried through Ibis."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import ibis
import pyarrow as pa

from clarion.core.clock import Clock, SystemClock
from clarion.core.errors import ClarionError, FieldProblem, InvalidInput
from clarion.stores.events.backend import EventBackend, open_backend
from clarion.stores.events.batch import Rows, to_arrow
from clarion.stores.events.schema import TABLES, TableSpec

T = TypeVar("T")


class EventStore:
    """Events, sends, ad spend, identities and a contact mirror; DuckDB now, ClickHouse later.

    Open it with ``EventStore.open(url)``; one instance per process owns a DuckDB file.
    """

    def __init__(
        self,
        backend: EventBackend,
        *,
        url: str,
        read_only: bool = False,
        clock: Clock | None = None,
    ) -> None:
        self._backend: EventBackend | None = backend
        self.url = url
        self.read_only = read_only
        self._clock: Clock = clock or SystemClock()
        # A DuckDB connection must not run two statements at once from two threads.
        self._write_lock = threading.Lock()
        # Ibis tables by connection and name: asking DuckDB for a schema costs ~3 ms, and every
        # analytics call reads several tables. Tables are never altered once created
        # (create_schema). Each thread has its own connection (DuckDBBackend.ibis), and an
        # expression must not mix two, so the connection is part of the key; connections live
        # as long as the store, so their ids are not reused before close() clears this.
        self._tables: dict[tuple[int, str], ibis.Table] = {}

    @classmethod
    def open(cls, url: str, *, read_only: bool = False, clock: Clock | None = None) -> EventStore:
        """Open ``duckdb:///abs/path/events.duckdb`` or ``duckdb://:memory:``.

        Raises StoreBusy at once if another process holds the DuckDB file.
        """
        return cls(
            open_backend(url, read_only=read_only), url=url, read_only=read_only, clock=clock
        )

    def create_schema(self) -> None:
        """Create the missing tables; existing ones are checked, never altered. Idempotent."""
        backend = self._writable("create the schema")
        self._tables.clear()
        with self._write_lock:
            existing = backend.existing_tables()
            for spec in TABLES.values():
                if spec.name in existing:
                    self._check_columns(spec)
                else:
                    backend.create_table(spec)

    def append(self, table_name: str, rows: Rows) -> int:
        """Write ``rows`` (dicts or a pyarrow Table) to one table in one batch; return the count.

        The whole batch is validated first: an unknown table or column, a missing required
        value or a wrongly typed value raises InvalidInput naming the row and field, and
        nothing is written. Missing stamp columns (e.g. ``received_at``) get the clock's now.
        """
        spec = _spec(table_name)
        backend = self._writable("append")
        batch = to_arrow(spec, rows, self._clock.now())
        if batch.num_rows == 0:
            return 0
        with self._write_lock:
            backend.append(spec, batch)
        return int(batch.num_rows)

    def batch(self, table_name: str, rows: Rows) -> pa.Table:
        """``rows`` as one checked Arrow batch of the table, stamped with this store's clock."""
        return to_arrow(_spec(table_name), rows, self._clock.now())

    def append_new(
        self,
        table_name: str,
        rows: Rows,
        *,
        keys: Sequence[str],
        time_column: str,
        since: datetime,
        until: datetime,
        key_values: Sequence[tuple[Any, ...]] | None = None,
    ) -> pa.Table:
        """Append only the rows whose ``keys`` the table lacks (searched in a time window).

        Check and write are one atomic statement; returns the keys of the rows written.
        Rows must not repeat keys among themselves (callers drop repeats first). A caller
        that holds the rows' keys already passes them, in row order, as ``key_values``.
        """
        spec = _spec(table_name)
        backend = self._writable("append")
        batch = to_arrow(spec, rows, self._clock.now())
        if batch.num_rows == 0:
            return batch.select(list(keys))
        with self._write_lock:
            written: pa.Table = backend.append_new(
                spec,
                batch,
                keys=list(keys),
                time_column=time_column,
                since=since,
                until=until,
                key_values=key_values,
            )
        return written

    def defer_checkpoints(self) -> None:
        """From now on the owner calls ``checkpoint`` on a timer (``Checkpointer``).

        Appends then never stop to fold the log into the file themselves (decision 0052).
        """
        self._writable("take over checkpoints").defer_checkpoints()

    def checkpoint(self) -> None:
        """Fold the engine's write-ahead log into the store's file; appends may go on meanwhile.

        Not under the write lock: DuckDB lets appends commit while a checkpoint runs.
        """
        self._writable("checkpoint").checkpoint()

    def maintain(self, work: Callable[[Any], T]) -> T:
        """Run ``work(connection)`` while no append runs: upkeep of derived tables.

        The connection is the engine's own (DuckDB's); ``work`` manages its transaction.
        """
        backend = self._writable("maintain derived tables")
        with self._write_lock:
            return work(backend.ibis.con)

    def table(self, name: str) -> ibis.Table:
        """The named table as an Ibis expression, unscoped: callers filter by workspace_id."""
        spec = _spec(name)
        connection = self._open_backend().ibis
        key = (id(connection), spec.name)
        found = self._tables.get(key)
        if found is None:
            found = self._tables[key] = connection.table(spec.name)
        return found

    @property
    def connection(self) -> Any:
        """The Ibis backend, for executing expressions built from ``table()``."""
        return self._open_backend().ibis

    def close(self) -> None:
        """Release the backend (and the DuckDB file lock). Safe to call twice."""
        self._tables.clear()
        if self._backend is not None:
            backend, self._backend = self._backend, None
            backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _open_backend(self) -> EventBackend:
        if self._backend is None:
            raise ClarionError(f"the event store {self.url} is closed", {}, "store_closed")
        return self._backend

    def _writable(self, action: str) -> EventBackend:
        backend = self._open_backend()
        if self.read_only:
            raise ClarionError(
                f"cannot {action}: the event store {self.url} was opened read-only",
                {"url": self.url},
                "store_read_only",
            )
        return backend

    def _check_columns(self, spec: TableSpec) -> None:
        found = set(self._open_backend().ibis.table(spec.name).columns)
        expected = set(spec.types)
        if found != expected:
            raise ClarionError(
                f"event store table {spec.name} has columns {sorted(found)}, "
                f"this version of Clarion expects {sorted(expected)}",
                {"table": spec.name, "missing": sorted(expected - found)},
                "store_schema_mismatch",
            )


def _spec(table_name: str) -> TableSpec:
    spec = TABLES.get(table_name)
    if spec is None:
        known = ", ".join(TABLES)
        raise InvalidInput(
            f"unknown event store table {table_name!r}; known: {known}",
            [FieldProblem("table", f"unknown; known: {known}")],
        )
    return spec
