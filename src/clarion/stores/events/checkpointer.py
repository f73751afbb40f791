"""The checkpointer: `clarion serve` folds the event store's log into its file every 3 seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from clarion.stores.events.store import EventStore

log = logging.getLogger(__name__)
# Batched events/s with two intake workers, 8-second runs: every 0.3 s 87,000-97,000;
# every 1 s 95,000-125,000; every 3 s 120,000-124,000; 6-10 s alike (decision 0052).
CHECKPOINT_SECONDS = 3.0


class Checkpointer:
    """Checkpoints on its own thread, so the collector's appends never wait for one.

    Left to itself DuckDB checkpoints inside the commit that fills its log, which stalled the
    collector's writer for 120-440 ms under load (decision 0052). A failed checkpoint is
    logged and tried again; the log stays durable either way.
    """

    def __init__(self, store: EventStore, *, every: float = CHECKPOINT_SECONDS) -> None:
        self.store = store
        self.every = every
        self.checkpoints = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self.store.defer_checkpoints()
            self._task = asyncio.create_task(self._run(), name="clarion-checkpoints")

    async def stop(self) -> None:
        """Stop ticking (closing the store checkpoints what is left)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.every)
            if self._stop.is_set():
                return
            try:
                await asyncio.to_thread(self.store.checkpoint)
                self.checkpoints += 1
            except Exception as error:  # a busy or closed store: the log simply grows a while
                log.warning("checkpointing the event store failed, will retry: %s", error)
