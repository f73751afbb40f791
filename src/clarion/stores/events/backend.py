"""Backends: what each engine must provide (connect, create, append) and the URL registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from clarion.core.errors import FieldProblem, InvalidInput
from clarion.stores.events.duckdb_backend import open_duckdb
from clarion.stores.events.schema import TableSpec


class EventBackend(Protocol):
    """The engine-specific part of the event store; everything else goes through Ibis."""

    @property
    def ibis(self) -> Any:
        """The Ibis backend (connection) that queries run on."""
        ...

    def existing_tables(self) -> set[str]:
        """Names of the tables that exist already."""
        ...

    def create_table(self, spec: TableSpec) -> None:
        """Create one table from its spec (with engine options, e.g. a ClickHouse ORDER BY)."""
        ...

    def append(self, spec: TableSpec, batch: Any) -> None:
        """Write one validated pyarrow Table in a single transaction: all rows or none."""
        ...

    def append_new(
        self,
        spec: TableSpec,
        batch: Any,
        *,
        keys: list[str],
        time_column: str,
        since: Any,
        until: Any,
        key_values: Any = None,
    ) -> Any:
        """Append the rows of ``batch`` whose keys the table does not hold yet, atomically.

        Returns the key columns of the rows written. Only rows of the table whose
        ``time_column`` lies in [since, until] are compared, so engines can prune by time.
        """
        ...

    def defer_checkpoints(self) -> None:
        """Leave checkpoints to ``checkpoint`` calls instead of the appends that fill the log."""
        ...

    def checkpoint(self) -> None:
        """Write what the log holds into the database proper, beside concurrent appends."""
        ...

    def close(self) -> None:
        """Release the connection (and, for DuckDB, the file lock)."""
        ...


# URL scheme -> opener(location, read_only). ClickHouse and Spark get a module and a line here.
_OPENERS: dict[str, Callable[[str, bool], EventBackend]] = {"duckdb": open_duckdb}


def open_backend(url: str, *, read_only: bool) -> EventBackend:
    """Open the backend a URL names, e.g. ``duckdb:///srv/clarion/events.duckdb``."""
    scheme, separator, location = url.partition("://")
    opener = _OPENERS.get(scheme)
    if not separator or opener is None:
        known = ", ".join(f"{name}://" for name in sorted(_OPENERS))
        raise InvalidInput(
            f"event store URL {url!r} is not supported; use one of: {known}",
            [FieldProblem("event_store_url", f"unsupported scheme; known: {known}")],
        )
    return opener(location, read_only)
