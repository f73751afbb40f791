"""Recent keys: what the one writer of a table appended lately, so most duplicate checks skip it.

A DuckDB file has one writer, and every write goes through its backend, so the backend can
remember the keys it appended (with their time) since it opened the file. A duplicate check
whose time window lies wholly after ``floor`` (the newest time stored before the file was
opened, or of any key forgotten since) is answered from memory with the same result the
store would give; any other window is searched in the store as before.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable
from itertools import islice
from typing import cast


class RecentKeys:
    """Keys appended to one table since it was opened, with their times (epoch microseconds).

    Holds at most ``capacity`` keys; forgetting the oldest-appended raises ``floor`` to its time.
    A million keys take about 200 MB and cover the last 6 seconds at 150,000 events/s: a
    retry's window (its ts, give or take a second) must lie inside what is remembered, or
    the check goes to the store, which costs the writer far more (decision 0053).
    """

    def __init__(self, floor: int | None, capacity: int = 1_000_000) -> None:
        self.floor = floor  # windows reaching back to this time or earlier need the store
        self.capacity = capacity
        self._times: dict[Hashable, int] = {}

    def __len__(self) -> int:
        return len(self._times)

    def covers(self, since: int) -> bool:
        """Whether every stored key with a time of ``since`` or later is known here."""
        return self.floor is None or since > self.floor

    def stored(self, keys: Iterable[Hashable], times_since: int, times_until: int) -> list[bool]:
        """For each key: is it stored with a time in [since, until]? (Only when ``covers``.)"""
        known = self._times
        keys = keys if isinstance(keys, list) else list(keys)
        if known.keys().isdisjoint(keys):  # the common case, checked in C
            return [False] * len(keys)
        return [
            (at := known.get(key)) is not None and times_since <= at <= times_until for key in keys
        ]

    def add(self, keys: Iterable[Hashable], times: Iterable[int | None]) -> None:
        """Remember appended keys; forget the oldest-appended beyond ``capacity``."""
        known = self._times
        keys, times = list(keys), list(times)
        if None not in times and known.keys().isdisjoint(keys) and len(set(keys)) == len(keys):
            known.update(zip(keys, cast(list[int], times), strict=True))  # all new, all timed
            keys, times = [], []
        for key, at in zip(keys, times, strict=True):
            if at is None:  # no time: no window ever finds it, in memory or in the store
                continue
            previous = known.get(key)
            if previous is not None and previous != at:
                # The same key at two times (a table without a unique key): remember the
                # later, and treat the earlier as forgotten.
                self.forget_up_to(min(previous, at))
            known[key] = max(at, previous or at)
        excess = len(known) - self.capacity
        if excess > 0:
            # Forget a tenth more than needed, so a full memory does not evict on every add.
            oldest = list(islice(known, excess + self.capacity // 10))  # insertion order
            self.forget_up_to(max(map(known.__getitem__, oldest)))
            deque(map(known.__delitem__, oldest), maxlen=0)  # delete in C, not in a loop

    def forget_up_to(self, until: int) -> None:
        """Stop answering for times up to ``until`` (after a failed write, or when full)."""
        self.floor = until if self.floor is None else max(self.floor, until)
