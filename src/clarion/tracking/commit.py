"""Commit events exactly once: drop ids already stored (or repeated), append the rest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from clarion.stores.events import EventStore

# A retried event carries its original ts, so it is looked for at that ts, give or take a
# second; a narrow window is what keeps the check cheap on a large table. Events whose ts was
# clamped to their arrival get a day (``CLAMPED_LOOKBACK``): a retry arrives, and is clamped,
# later.
DEFAULT_LOOKBACK = timedelta(seconds=1)
CLAMPED_LOOKBACK = timedelta(days=1)
KEY = ("workspace_id", "event_id")


@dataclass(frozen=True)
class Outcome:
    """What happened to one request's events: how many were new and how many repeats."""

    accepted: int
    duplicates: int


@dataclass(frozen=True)
class Submission:
    """One request's rows and how far back their duplicates may lie."""

    rows: Sequence[dict[str, Any]]
    lookback: timedelta = DEFAULT_LOOKBACK


def commit(store: EventStore, submissions: Sequence[Submission]) -> list[Outcome]:
    """Append the new events of all submissions in one atomic batch; one Outcome each.

    Callers must be the only writer of the events table (the collector's single flusher).
    """
    seen: set[tuple[str, str]] = set()
    owner: dict[tuple[str, str], int] = {}  # key -> index of the submission that brought it
    fresh: list[dict[str, Any]] = []
    for index, submission in enumerate(submissions):
        for row in submission.rows:
            key = (row["workspace_id"], row["event_id"])
            if key not in seen:
                seen.add(key)
                owner[key] = index
                fresh.append(row)
    written: Counter[int] = Counter()
    # One statement per lookback, so a rare wide window does not widen everyone's search.
    by_lookback: dict[timedelta, list[dict[str, Any]]] = {}
    for row in fresh:
        lookback = submissions[owner[(row["workspace_id"], row["event_id"])]].lookback
        by_lookback.setdefault(lookback, []).append(row)
    for lookback, rows in by_lookback.items():
        since = min(r["ts"] for r in rows) - lookback
        until = max(r["ts"] for r in rows) + timedelta(seconds=1)
        keys = store.append_new(
            "events", rows, keys=KEY, time_column="ts", since=since, until=until
        )
        for key in zip(
            keys.column("workspace_id").to_pylist(),
            keys.column("event_id").to_pylist(),
            strict=True,
        ):
            written[owner[key]] += 1
    return [
        Outcome(accepted=written[i], duplicates=len(s.rows) - written[i])
        for i, s in enumerate(submissions)
    ]
