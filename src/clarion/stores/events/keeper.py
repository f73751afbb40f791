"""The send facts keeper: `clarion serve` folds new events and sends into the facts every 30 s."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from clarion.stores.events.send_facts import STEP_ROWS, fold
from clarion.stores.events.store import EventStore

log = logging.getLogger(__name__)
FOLD_SECONDS = 30.0  # how often; between folds, queries read the tail since the mark


class SendFactsKeeper:
    """Folds in steps of ``limit`` rows, one thread call each, so appends wait at most a step.

    Folding is an optimisation: queries are exact without it, so a failed fold is logged and
    tried again at the next tick, never raised into the server.
    """

    def __init__(
        self, store: EventStore, *, every: float = FOLD_SECONDS, limit: int = STEP_ROWS
    ) -> None:
        self.store = store
        self.every = every
        self.limit = limit
        self.folds = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="clarion-send-facts")

    async def stop(self) -> None:
        """Finish the step under way, then stop (the rest is folded at the next start)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            await self.fold_now()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.every)

    async def fold_now(self) -> None:
        """Fold everything stored so far, step by step (stops early when asked to stop)."""
        try:
            while True:
                folded = await asyncio.to_thread(fold, self.store, limit=self.limit)
                self.folds += 1
                if not folded.behind or self._stop.is_set():
                    return
        except Exception as error:  # a DuckDB error, a closed store: the facts stay as they were
            log.warning("folding the send facts failed, will retry: %s", error)
