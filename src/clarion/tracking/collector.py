"""Group commit: requests wait a few milliseconds for a shared flush, then get their outcome."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from clarion.stores.events import EventStore
from clarion.tracking.commit import (
    CLAMPED_LOOKBACK,
    DEFAULT_LOOKBACK,
    Outcome,
    Submission,
    commit,
)
from clarion.tracking.intake import is_clamped
from clarion.tracking.plain_batch import EventColumns


class Answers(Protocol):
    """Where the outcomes of another process's submissions go (an intake worker's link)."""

    def answer(self, outcomes: list[tuple[int, Outcome | BaseException]]) -> None:
        """Send each request id its outcome; called on the writer thread after a flush."""


@dataclass(frozen=True)
class RemoteWaiter:
    """A request waiting in another process: its id there, and the link that answers it."""

    link: Answers
    request_id: int


class Sealed(Protocol):
    """Another process's submissions, still encoded: the writer thread opens them.

    Decoding on the writer's own thread keeps the threads that receive them from holding the
    interpreter lock while DuckDB waits to take it back (decision 0052).
    """

    @property
    def rows(self) -> int:
        """How many rows are inside (how full the next flush is)."""

    def open(self) -> list[tuple[Submission, RemoteWaiter]]:
        """The submissions inside (none if they cannot be read: the sender is told)."""

    def fail(self, error: BaseException) -> None:
        """Tell every request inside that it was not committed."""


_Pending = list[tuple[Submission, "asyncio.Future[Outcome] | RemoteWaiter"]]


class Collector:
    """Batches events from concurrent requests into one commit; acknowledges after it.

    One writer thread: the collector is the single writer of the events table, which is what
    makes the duplicate check in ``commit`` exact. The writer takes whatever is waiting as
    soon as it is free, so it works while the event loop checks the next requests: a burst of
    requests does not wait for the loop to finish the whole burst before its first flush
    (decision 0051).
    """

    def __init__(
        self, store: EventStore, *, max_wait: float = 0.002, max_rows: int = 20_000
    ) -> None:
        self.store = store
        self.max_wait = max_wait  # how long the first request of a flush waits for company
        self.max_rows = max_rows  # flush at once when this many rows are waiting
        self._pending: _Pending = []
        self._pending_rows = 0
        self._sealed: list[Sealed] = []
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self.flushes = 0

    async def start(self) -> None:
        if self._thread is None:
            self._loop = asyncio.get_running_loop()
            self._closing = False
            self._thread = threading.Thread(target=self._write, name="clarion-commit", daemon=True)
            self._thread.start()

    async def submit(
        self,
        rows: Sequence[dict[str, Any]] | EventColumns,
        lookback: timedelta = DEFAULT_LOOKBACK,
    ) -> Outcome:
        """Wait until ``rows`` are committed (or found to be duplicates); raises on failure."""
        if not rows:
            return Outcome(0, 0)
        if self._closing or self._thread is None:
            raise RuntimeError("the collector is not running")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        with self._ready:
            self._pending.append((Submission(rows, lookback), future))
            self._pending_rows += len(rows)
            self._ready.notify()
        return await future

    def submit_remote(self, sealed: Sealed) -> None:
        """Queue submissions made in another process; their waiters' links hear the outcomes.

        Safe to call from any thread. A stopped collector fails them at once.
        """
        with self._ready:
            if not (self._closing or self._thread is None):
                self._sealed.append(sealed)
                self._pending_rows += sealed.rows
                self._ready.notify()
                return
        sealed.fail(RuntimeError("the collector is not running"))

    async def submit_events(self, rows: Sequence[dict[str, Any]] | EventColumns) -> Outcome:
        """Submit checked events: clamped ones with the wider lookback their retries need."""
        if isinstance(rows, EventColumns):  # a plain batch: nothing in it was clamped
            return await self.submit(rows)
        clamped = [r for r in rows if is_clamped(r)]
        if not clamped:
            return await self.submit(rows)
        normal = [r for r in rows if not is_clamped(r)]
        first, second = await asyncio.gather(
            self.submit(normal), self.submit(clamped, CLAMPED_LOOKBACK)
        )
        return Outcome(first.accepted + second.accepted, first.duplicates + second.duplicates)

    async def stop(self) -> None:
        """Flush what is waiting, then stop."""
        thread = self._thread
        if thread is None:
            return
        with self._ready:
            self._closing = True
            self._ready.notify()
        await asyncio.to_thread(thread.join)
        self._thread = None
        with self._ready:  # a request that slipped in as the writer left is told so
            late, self._pending, self._pending_rows = self._pending, [], 0
            sealed, self._sealed = self._sealed, []
        stopped = RuntimeError("the collector stopped")
        for _, waiter in late:
            if not isinstance(waiter, RemoteWaiter) and not waiter.done():
                waiter.set_exception(stopped)
        for remote in sealed:
            remote.fail(stopped)
        await asyncio.sleep(0)  # let the last outcomes reach their requests

    def _take(self) -> tuple[_Pending, list[Sealed]] | None:
        """The next flush's submissions, once some wait (and had a moment for company)."""
        with self._ready:
            idle = not (self._pending or self._sealed)
            while not (self._pending or self._sealed) and not self._closing:
                self._ready.wait()
            if not (self._pending or self._sealed):
                return None  # closing, nothing left
            # Work that waited for the last flush has had its company; a first request
            # after a quiet spell waits up to max_wait for others.
            deadline = time.monotonic() + (self.max_wait if idle else 0.0)
            while self._pending_rows < self.max_rows and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._ready.wait(left)
            batch, self._pending, self._pending_rows = self._pending, [], 0
            sealed, self._sealed = self._sealed, []
            return batch, sealed

    def _write(self) -> None:
        assert self._loop is not None
        while (taken := self._take()) is not None:
            batch, sealed = taken
            for remote in sealed:
                try:
                    batch.extend(remote.open())
                except Exception as exc:  # its requests hear of it; the others go on
                    remote.fail(exc)
            if not batch:
                continue
            try:
                outcomes: list[Outcome] | BaseException = commit(self.store, [s for s, _ in batch])
            except Exception as exc:  # every request of the flush hears of it
                outcomes = exc
            _answer_remote(batch, outcomes)
            self.flushes += 1
            if all(isinstance(w, RemoteWaiter) for _, w in batch):
                continue  # nobody waits on this process's loop
            try:
                self._loop.call_soon_threadsafe(self._settle, batch, outcomes)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                return

    def _settle(self, batch: _Pending, outcomes: list[Outcome] | BaseException) -> None:
        for index, (_, future) in enumerate(batch):
            if isinstance(future, RemoteWaiter) or future.done():
                continue
            if isinstance(outcomes, BaseException):
                future.set_exception(outcomes)
            else:
                future.set_result(outcomes[index])


def _answer_remote(batch: _Pending, outcomes: list[Outcome] | BaseException) -> None:
    """Give the flush's remote waiters their outcomes, one message per link."""
    by_link: dict[int, tuple[Answers, list[tuple[int, Outcome | BaseException]]]] = {}
    for index, (_, waiter) in enumerate(batch):
        if not isinstance(waiter, RemoteWaiter):
            continue
        outcome = outcomes if isinstance(outcomes, BaseException) else outcomes[index]
        by_link.setdefault(id(waiter.link), (waiter.link, []))[1].append(
            (waiter.request_id, outcome)
        )
    for link, answers in by_link.values():
        link.answer(answers)
