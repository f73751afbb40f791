"""Group commit: requests wait a few milliseconds for a shared flush, then get their outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from clarion.stores.events import EventStore
from clarion.tracking.commit import (
    CLAMPED_LOOKBACK,
    DEFAULT_LOOKBACK,
    Outcome,
    Submission,
    commit,
)
from clarion.tracking.intake import is_clamped


class Collector:
    """Batches events from concurrent requests into one commit; acknowledges after it.

    One flusher, one thread: the collector is the single writer of the events table, which is
    what makes the duplicate check in ``commit`` exact.
    """

    def __init__(
        self, store: EventStore, *, max_wait: float = 0.002, max_rows: int = 20_000
    ) -> None:
        self.store = store
        self.max_wait = max_wait  # how long the first request of a flush waits for company
        self.max_rows = max_rows  # flush at once when this many rows are waiting
        self._pending: list[tuple[Submission, asyncio.Future[Outcome]]] = []
        self._pending_rows = 0
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clarion-commit")
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.flushes = 0

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="clarion-collector")

    async def submit(
        self, rows: Sequence[dict[str, Any]], lookback: timedelta = DEFAULT_LOOKBACK
    ) -> Outcome:
        """Wait until ``rows`` are committed (or found to be duplicates); raises on failure."""
        if not rows:
            return Outcome(0, 0)
        if self._closing or self._task is None:
            raise RuntimeError("the collector is not running")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._pending.append((Submission(rows, lookback), future))
        self._pending_rows += len(rows)
        self._wake.set()
        return await future

    async def submit_events(self, rows: Sequence[dict[str, Any]]) -> Outcome:
        """Submit checked events: clamped ones with the wider lookback their retries need."""
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
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            if self._pending_rows < self.max_rows and not self._closing:
                await asyncio.sleep(self.max_wait)
            self._wake.clear()
            batch, self._pending, self._pending_rows = self._pending, [], 0
            if batch:
                try:
                    outcomes = await loop.run_in_executor(
                        self._executor, commit, self.store, [s for s, _ in batch]
                    )
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for (_, future), outcome in zip(batch, outcomes, strict=True):
                        if not future.done():
                            future.set_result(outcome)
                self.flushes += 1
            if self._closing and not self._pending:
                return
