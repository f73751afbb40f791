"""Commit events exactly once: drop ids already stored (or repeated), append the rest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain, compress
from operator import itemgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from clarion.stores.events import EventStore
from clarion.stores.events.batch import columns_to_arrow
from clarion.stores.events.schema import EVENTS
from clarion.tracking.plain_batch import EventColumns

# A retried event carries its original ts, so it is looked for at that ts, give or take a
# second; a narrow window is what keeps the check cheap on a large table. Events whose ts was
# clamped to their arrival get a day (``CLAMPED_LOOKBACK``): a retry arrives, and is clamped,
# later.
DEFAULT_LOOKBACK = timedelta(seconds=1)
CLAMPED_LOOKBACK = timedelta(days=1)
KEY = ("workspace_id", "event_id")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Outcome:
    """What happened to one request's events: how many were new and how many repeats."""

    accepted: int
    duplicates: int


@dataclass(frozen=True)
class ArrowRows:
    """Checked events in the events table's Arrow schema: ``len(keys)`` rows of ``frame``.

    What an intake worker sends the store's owner (``tracking/relay.py``): one request's rows
    within the record batch of a whole frame, whose requests are written together unsliced.
    """

    frame: pa.Table
    start: int
    keys: list[tuple[str, str]]  # the rows' keys, in order

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def table(self) -> pa.Table:
        """This request's rows alone."""
        return self.frame.slice(self.start, len(self.keys))


Rows = Sequence[dict[str, Any]] | EventColumns | ArrowRows


@dataclass(frozen=True)
class Submission:
    """One request's rows (dicts, checked columns or Arrow) and how far back duplicates lie."""

    rows: Rows
    lookback: timedelta = DEFAULT_LOOKBACK


def commit(store: EventStore, submissions: Sequence[Submission]) -> list[Outcome]:
    """Append the new events of all submissions in one atomic batch; one Outcome each.

    Callers must be the only writer of the events table (the collector's writer thread).
    """
    keys = [_keys(s.rows) for s in submissions]
    kept = _first_of_each_key(keys)  # None: no key repeats in this flush (the common case)
    written = [0] * len(submissions)
    # One statement per lookback, so a rare wide window does not widen everyone's search.
    by_lookback: dict[timedelta, list[int]] = {}
    for index, submission in enumerate(submissions):
        by_lookback.setdefault(submission.lookback, []).append(index)
    for lookback, indexes in by_lookback.items():
        batch, batch_keys, counts = _batch(
            store, [submissions[i].rows for i in indexes], [keys[i] for i in indexes], kept, indexes
        )
        if batch.num_rows == 0:
            continue
        times = pc.min_max(batch.column("ts").cast(pa.int64()))
        since = _instant(times["min"].as_py()) - lookback
        until = _instant(times["max"].as_py()) + timedelta(seconds=1)
        stored = store.append_new(
            "events",
            batch,
            keys=KEY,
            time_column="ts",
            since=since,
            until=until,
            key_values=batch_keys,
        )
        if stored.num_rows == batch.num_rows:  # all new: each submission wrote what it kept
            for i, count in zip(indexes, counts, strict=True):
                written[i] += count
            continue
        owner: dict[tuple[str, str], int] = {}  # key -> the submission whose row was kept
        for i in indexes:
            for key in keys[i]:
                owner.setdefault(key, i)
        for key in zip(
            stored.column("workspace_id").to_pylist(),
            stored.column("event_id").to_pylist(),
            strict=True,
        ):
            written[owner[key]] += 1
    return [
        Outcome(accepted=written[i], duplicates=len(s.rows) - written[i])
        for i, s in enumerate(submissions)
    ]


def _keys(rows: Rows) -> list[tuple[str, str]]:
    if isinstance(rows, ArrowRows):
        return rows.keys
    if isinstance(rows, EventColumns):
        return list(zip(rows.columns["workspace_id"], rows.columns["event_id"], strict=True))
    return [(row["workspace_id"], row["event_id"]) for row in rows]


def _first_of_each_key(keys: list[list[tuple[str, str]]]) -> list[list[bool]] | None:
    """Per submission, which rows carry a key for the first time in this flush (None: all)."""
    total = sum(map(len, keys))
    if len(set().union(*keys)) == total:
        return None
    seen: set[tuple[str, str]] = set()
    kept = []
    for submission in keys:
        mask = []
        for key in submission:
            mask.append(key not in seen)
            seen.add(key)
        kept.append(mask)
    return kept


def _batch(
    store: EventStore,
    parts: list[Rows],
    part_keys: list[list[tuple[str, str]]],
    kept: list[list[bool]] | None,
    indexes: list[int],
) -> tuple[pa.Table, list[tuple[str, str]], list[int]]:
    """The parts' rows (only those ``kept``) as one Arrow batch, its keys, each part's count.

    Columns from plain batches are joined before Arrow sees them: one conversion per column
    for the whole flush costs far less than one per request.
    """
    plain: list[dict[str, list[Any]]] = []  # the kept columns of each plain batch
    rows: list[dict[str, Any]] = []
    runs: list[list[Any]] = []  # [frame, start, rows]: neighbouring requests of one frame
    column_keys: list[tuple[str, str]] = []
    row_keys: list[tuple[str, str]] = []
    arrow_keys: list[tuple[str, str]] = []
    counts = []
    for index, part, keys in zip(indexes, parts, part_keys, strict=True):
        keep = None if kept is None else kept[index]
        chosen_keys = keys if keep is None else list(compress(keys, keep))
        if isinstance(part, ArrowRows):
            last = runs[-1] if runs else None
            if keep is not None:
                kept_rows = part.table.filter(pa.array(keep))
                runs.append([kept_rows, 0, kept_rows.num_rows])
            elif last is not None and last[0] is part.frame and last[1] + last[2] == part.start:
                last[2] += len(part)
            else:
                runs.append([part.frame, part.start, len(part)])
            arrow_keys.extend(chosen_keys)
        elif isinstance(part, EventColumns):
            if part.count:
                plain.append(part.columns if keep is None else _kept(part.columns, keep))
            column_keys.extend(chosen_keys)
        else:
            rows.extend(part if keep is None else compress(part, keep))
            row_keys.extend(chosen_keys)
        counts.append(len(chosen_keys))
    tables = []
    if plain:
        tables.append(columns_to_arrow(EVENTS, join_columns(plain)))
    # Intake workers' requests: whole frames where a frame's requests are all here, joined
    # into whole columns. Slicing and joining them one request at a time cost more.
    arrow = [t if s == 0 and n == t.num_rows else t.slice(s, n) for t, s, n in runs if n]
    if rows or not (tables or arrow):
        tables.append(store.batch("events", rows))
    if arrow:
        tables.append(pa.concat_tables(arrow).combine_chunks() if len(arrow) > 1 else arrow[0])
    batch = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    return batch, column_keys + row_keys + arrow_keys, counts


def join_columns(parts: list[dict[str, list[Any]]]) -> dict[str, list[Any]]:
    """Many plain batches' columns as one list per column, joined in C.

    With many one-event requests, a join per request and column cost more than the insert.
    """
    names = list(parts[0])
    per_column = zip(*map(itemgetter(*names), parts), strict=True)
    return dict(zip(names, map(list, map(chain.from_iterable, per_column)), strict=True))


def _kept(columns: dict[str, list[Any]], keep: list[bool]) -> dict[str, list[Any]]:
    return {name: list(compress(values, keep)) for name, values in columns.items()}


def _instant(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)
