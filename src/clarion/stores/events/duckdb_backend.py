"""DuckDB backend: open a file (one writer per file), create tables, append Arrow batches."""

from __future__ import annotations

import re
import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa

from clarion.core.errors import ClarionError, FieldProblem, InvalidInput, StoreBusy
from clarion.stores.events.recent import RecentKeys
from clarion.stores.events.schema import TableSpec

MEMORY = ":memory:"
# The Arrow batch is exposed to DuckDB under this name for the length of one INSERT.
_BATCH_VIEW = "__clarion_append_batch"
# With checkpoints on a timer (decision 0052), the log reaches this size only if they fail.
DEFERRED_CHECKPOINT_THRESHOLD = "256MB"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# DuckDB: 'Could not set lock on file "...": Conflicting lock is held in /usr/bin/python3 (PID 42)'
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def open_duckdb(location: str, read_only: bool) -> DuckDBBackend:
    """Open ``duckdb:///abs/path.duckdb`` (or ``duckdb://:memory:``); StoreBusy if locked."""
    if location in ("", MEMORY):
        database = MEMORY
    elif Path(location).is_absolute():
        database = location
    else:
        raise InvalidInput(
            f"event store URL duckdb://{location} needs an absolute path, "
            "e.g. duckdb:///srv/clarion/events.duckdb",
            [FieldProblem("event_store_url", "path must be absolute")],
        )
    try:
        # DuckDB fails at once when another process holds the file's lock: no waiting here.
        connection = ibis.duckdb.connect(database=database, read_only=read_only)
    except duckdb.Error as error:  # a lock, a missing file, a read-only :memory:...
        raise _open_error(database, error) from error
    return DuckDBBackend(connection)


def _open_error(database: str, error: Exception) -> ClarionError:
    text = str(error)
    if "Could not set lock" not in text and "Conflicting lock" not in text:
        return ClarionError(
            f"cannot open the event store {database}: {text}",
            {"path": database},
            "store_unavailable",
        )
    holder = _LOCK_HOLDER.search(text)
    pid = int(holder["pid"]) if holder else None
    by = f"another process (PID {pid})" if pid is not None else "another process"
    return StoreBusy(
        f"The event store {database} is held by {by}; `clarion serve` may be running, "
        "so stop it or go through its API.",
        {"path": database, "pid": pid, "program": holder["program"] if holder else None},
    )


class DuckDBBackend:
    """An embedded DuckDB database, reached through Ibis for queries and directly for writes.

    A DuckDB connection refuses a second statement from another thread while one runs, and the
    server reads and writes from several threads (requests, the collector, the send worker).
    So the thread that opened the store uses its connection and every other thread gets its own
    cursor (a connection to the same database, with the same view of committed data).
    """

    def __init__(self, connection: Any) -> None:
        self._ibis = connection
        self._owner = threading.get_ident()
        self._local = threading.local()
        self._cursors: list[Any] = []
        self._cursors_lock = threading.Lock()
        # (table, key columns, time column) -> what this writer appended lately (decision 0032)
        self._recent: dict[tuple[str, tuple[str, ...], str], RecentKeys] = {}
        self._current: dict[int, _CurrentBatch] = {}  # id(connection) -> its batch view

    @property
    def ibis(self) -> Any:
        if threading.get_ident() == self._owner:
            return self._ibis
        mine = getattr(self._local, "ibis", None)
        if mine is None:
            mine = ibis.duckdb.from_connection(self._ibis.con.cursor())
            self._local.ibis = mine
            with self._cursors_lock:
                self._cursors.append(mine)
        return mine

    def existing_tables(self) -> set[str]:
        # Not ibis' list_tables(): with DuckDB 2.0 it calls a method DuckDB removed.
        rows = self.ibis.con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = current_schema()"
        ).fetchall()
        return {name for (name,) in rows}

    def create_table(self, spec: TableSpec) -> None:
        self.ibis.create_table(spec.name, schema=spec.schema)

    def append(self, spec: TableSpec, batch: pa.Table) -> None:
        indexes = [(k, i) for k, i in self._recent.items() if k[0] == spec.name]
        try:
            self._insert(spec, batch)
        except BaseException:
            for (_, _, time_column), index in indexes:
                _forget_batch(index, batch, time_column)
            raise
        for (_, keys, time_column), index in indexes:
            index.add(_keys(batch, keys), _micros_of(batch, time_column))

    def _insert(self, spec: TableSpec, batch: pa.Table) -> None:
        with self._exposed(batch) as raw:
            # One INSERT is one transaction: all rows land or none. BY NAME so a table whose
            # columns were added in a different order still lines up. The table name comes from
            # the fixed TableSpec list, never from input.
            raw.execute(
                f'INSERT INTO "{spec.name}" BY NAME SELECT * FROM "{_BATCH_VIEW}"'  # noqa: S608
            )

    @contextmanager
    def _exposed(self, batch: pa.Table) -> Iterator[Any]:
        """``batch`` readable as the view ``_BATCH_VIEW`` on this thread's connection.

        The view is registered once per connection, over an object that hands DuckDB whatever
        batch is being written: registering each batch and dropping it again cost ~0.8 ms of
        CPU and two more waits for the interpreter lock per statement (decision 0051).
        """
        raw = self.ibis.con
        current = self._current.get(id(raw))
        if current is None:
            current = _CurrentBatch()
            current.batch = batch  # DuckDB reads the schema as it registers the view
            raw.register(_BATCH_VIEW, current)
            self._current[id(raw)] = current
        current.batch = batch
        try:
            yield raw
        finally:
            current.batch = None

    def append_new(
        self,
        spec: TableSpec,
        batch: pa.Table,
        *,
        keys: list[str],
        time_column: str,
        since: Any,
        until: Any,
        key_values: Any = None,
    ) -> pa.Table:
        if not set(keys) <= set(spec.types) or time_column not in spec.types:
            raise ValueError("key columns must be columns of the table")
        index = self._recent_keys(spec, tuple(keys), time_column)
        window = (_micros(since), _micros(until))
        written_keys = None
        unknown = False  # memory knew none of the keys: adding them needs no look-up
        try:
            if index.covers(window[0]):
                batch_keys = _keys(batch, keys) if key_values is None else list(key_values)
                written, written_keys, unknown = self._append_checked_in_memory(
                    spec, batch, index, batch_keys, window
                )
            else:
                written = self._append_checked_in_store(
                    spec, batch, keys=keys, time_column=time_column, since=since, until=until
                )
        except BaseException:
            _forget_batch(index, batch, time_column)
            raise
        if written_keys is None:
            written_keys = _keys(written, keys)
        index.add(written_keys, _micros_of(written, time_column), unknown=unknown)
        return written.select(keys)

    def _append_checked_in_memory(
        self,
        spec: TableSpec,
        batch: pa.Table,
        index: RecentKeys,
        batch_keys: list[Hashable],
        window: tuple[int, int],
    ) -> tuple[pa.Table, list[Hashable], bool]:
        """The window lies after everything stored before: memory knows every key in it.

        Returns the rows written, their keys, and whether memory knew none of the keys.
        """
        stored = index.stored(batch_keys, *window)
        if stored is not None and any(stored):
            batch = batch.filter(pa.array([not s for s in stored]))
            batch_keys = [k for k, s in zip(batch_keys, stored, strict=True) if not s]
        if batch.num_rows:
            self._insert(spec, batch)
        return batch, batch_keys, stored is None

    def _append_checked_in_store(
        self,
        spec: TableSpec,
        batch: pa.Table,
        *,
        keys: list[str],
        time_column: str,
        since: Any,
        until: Any,
    ) -> pa.Table:
        """The window reaches rows stored before this writer opened the file: ask the store."""
        with self._exposed(batch) as raw:
            match = " AND ".join(f't."{c}" = b."{c}"' for c in keys)
            returning = ", ".join(f'"{c}"' for c in [*keys, time_column])
            # One statement: the duplicate check and the insert commit together, so a crash
            # can never leave one without the other. Names come from the fixed TableSpec.
            query = (
                f'INSERT INTO "{spec.name}" BY NAME SELECT * FROM "{_BATCH_VIEW}" b '  # noqa: S608
                f'WHERE NOT EXISTS (SELECT 1 FROM "{spec.name}" t WHERE {match} '
                f'AND t."{time_column}" BETWEEN ? AND ?) RETURNING {returning}'
            )
            written: pa.Table = raw.sql(query, params=[since, until]).to_arrow_table()
            return written

    def _recent_keys(self, spec: TableSpec, keys: tuple[str, ...], time_column: str) -> RecentKeys:
        found = self._recent.get((spec.name, keys, time_column))
        if found is None:
            # Everything stored before now lies at or before the newest time in the table.
            # As epoch microseconds: fetching an instant itself would need pytz.
            newest = self.ibis.con.execute(
                f'SELECT epoch_us(max("{time_column}")) FROM "{spec.name}"'  # noqa: S608
            ).fetchall()[0][0]
            found = RecentKeys(None if newest is None else int(newest))
            self._recent[(spec.name, keys, time_column)] = found
        return found

    def defer_checkpoints(self) -> None:
        # DuckDB checkpoints inside the commit that fills its log past 16 MB: at 80,000
        # events/s, a 120-440 ms stall of the collector's writer every second or so.
        self.ibis.con.execute(f"SET checkpoint_threshold = '{DEFERRED_CHECKPOINT_THRESHOLD}'")

    def checkpoint(self) -> None:
        self.ibis.con.execute("CHECKPOINT")

    def close(self) -> None:
        self._current.clear()
        with self._cursors_lock:
            cursors, self._cursors = self._cursors, []
        for cursor in cursors:
            cursor.disconnect()
        self._ibis.disconnect()


class _CurrentBatch:
    """The batch being written, as an Arrow stream: what the view ``_BATCH_VIEW`` reads."""

    def __init__(self) -> None:
        self.batch: pa.Table | None = None

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        if self.batch is None:
            raise RuntimeError("no batch is being written")
        return self.batch.__arrow_c_stream__(requested_schema)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _micros_of(batch: pa.Table, column: str) -> list[int | None]:
    values = batch.column(column).cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return values.to_pylist()  # type: ignore[no-any-return]


def _keys(batch: pa.Table, columns: list[str] | tuple[str, ...]) -> list[Hashable]:
    return list(zip(*(batch.column(c).to_pylist() for c in columns), strict=True))


def _forget_batch(index: RecentKeys, batch: pa.Table, time_column: str) -> None:
    """After a failed write nobody knows which of these rows landed: ask the store for them."""
    times = [t for t in _micros_of(batch, time_column) if t is not None]
    if times:
        index.forget_up_to(max(times))
