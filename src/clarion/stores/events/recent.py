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
from itertools import repeat
from typing import cast


class RecentKeys:
    """Keys appended to one table since it was opened, with their times (epoch microseconds).

    Holds at most ``capacity`` keys; forgetting the oldest-appended raises ``floor`` to their
    time. A million keys take about 200 MB and cover the last 6 seconds at 150,000 events/s:
    a retry's window (its ts, give or take a second) must lie inside what is remembered, or
    the check goes to the store, which costs the writer far more (decision 0053).
    """

    def __init__(self, floor: int | None, capacity: int = 1_000_000) -> None:
        self.floor = floor  # windows reaching back to this time or earlier need the store
        self.capacity = capacity
        self._times: dict[Hashable, int] = {}
        # The keys each ``add`` remembered first, oldest first, with their latest time: the
        # oldest are forgotten a list at a time, without searching the dict for them.
        self._added: deque[tuple[list[Hashable], int]] = deque()
        self._moved = False  # a key was remembered again at a later time (not in its list's)

    def __len__(self) -> int:
        return len(self._times)

    def covers(self, since: int) -> bool:
        """Whether every stored key with a time of ``since`` or later is known here."""
        return self.floor is None or since > self.floor

    def stored(
        self, keys: Iterable[Hashable], times_since: int, times_until: int
    ) -> list[bool] | None:
        """For each key: is it stored with a time in [since, until]? (Only when ``covers``.)

        None when no key is remembered at all, whatever its time: the common case.
        """
        known = self._times
        keys = keys if isinstance(keys, list) else list(keys)
        if known.keys().isdisjoint(keys):  # checked in C
            return None
        return [
            (at := known.get(key)) is not None and times_since <= at <= times_until for key in keys
        ]

    def add(
        self, keys: Iterable[Hashable], times: Iterable[int | None], *, unknown: bool = False
    ) -> None:
        """Remember appended keys; forget the oldest-appended beyond ``capacity``.

        ``unknown``: ``stored`` has just answered None for these keys, so none is looked up.
        """
        known = self._times
        keys, times = list(keys), list(times)
        if (
            None not in times
            and (unknown or known.keys().isdisjoint(keys))
            and len(set(keys)) == len(keys)
        ):
            known.update(zip(keys, cast(list[int], times), strict=True))  # all new, all timed
            if keys:
                self._added.append((keys, max(cast(list[int], times))))
        else:
            self._add_one_by_one(keys, times)
        self._forget_oldest()

    def _add_one_by_one(self, keys: list[Hashable], times: list[int | None]) -> None:
        known = self._times
        first: list[Hashable] = []
        latest: int | None = None
        for key, at in zip(keys, times, strict=True):
            if at is None:  # no time: no window ever finds it, in memory or in the store
                continue
            previous = known.get(key)
            if previous is None:
                first.append(key)
                latest = at if latest is None else max(latest, at)
            elif previous != at:
                # The same key at two times (a table without a unique key): remember the
                # later, and treat the earlier as forgotten.
                self.forget_up_to(min(previous, at))
                self._moved = True
            known[key] = max(at, previous or at)
        if first and latest is not None:
            self._added.append((first, latest))

    def _forget_oldest(self) -> None:
        """Forget the oldest-remembered keys beyond ``capacity``, raising ``floor`` past them."""
        known = self._times
        excess = len(known) - self.capacity
        while excess > 0 and self._added:
            keys, latest = self._added[0]
            if len(keys) > excess:  # part of a list: the rest stays, under the same time
                keys, rest = keys[:excess], keys[excess:]
                self._added[0] = (rest, latest)
            else:
                self._added.popleft()
            if self._moved:  # a key here may since be remembered at a later time
                latest = max([latest, *(known[k] for k in keys if k in known)])
            before = len(known)
            deque(map(known.pop, keys, repeat(None)), maxlen=0)  # delete in C, not in a loop
            excess -= before - len(known)
            self.forget_up_to(latest)

    def forget_up_to(self, until: int) -> None:
        """Stop answering for times up to ``until`` (after a failed write, or when full)."""
        self.floor = until if self.floor is None else max(self.floor, until)
