"""Commit events exactly once: drop ids already stored (or repeated), append the rest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from clarion.stores.events import EventStore

# A retried event carries its original ts, so it is looked for near that ts. The margin covers
# events whose ts was clamped to arrival time (their retry arrives, and is clamped, later).
DEFAULT_LOOKBACK = timedelta(days=1)
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
    if fresh:
        since = min(
            r["ts"] - submissions[owner[(r["workspace_id"], r["event_id"])]].lookback for r in fresh
        )
        until = max(r["ts"] for r in fresh)
        keys = store.append_new(
            "events", fresh, keys=KEY, time_column="ts", since=since, until=until
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
