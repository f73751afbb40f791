"""The send facts keeper: `clarion serve` folds new events and sends into the facts every 30 s."""

from __future__ import annotations

import asyncio
import logging

from clarion.core.periodic import Periodic
from clarion.stores.events.send_facts import STEP_ROWS, fold
from clarion.stores.events.store import EventStore

log = logging.getLogger(__name__)
FOLD_SECONDS = 30.0  # how often; between folds, queries read the tail since the mark


class SendFactsKeeper(Periodic):
    """Folds in steps of ``limit`` rows, one thread call each, so appends wait at most a step.

    Folding is an optimisation: queries are exact without it, so a failed fold is logged and
    tried again at the next tick, never raised into the server. It folds once at start, and
    stopping finishes the step under way (the rest is folded at the next start).
    """

    name = "clarion-send-facts"
    tick_at_start = True

    def __init__(
        self, store: EventStore, *, every: float = FOLD_SECONDS, limit: int = STEP_ROWS
    ) -> None:
        super().__init__(every)
        self.store = store
        self.limit = limit
        self.folds = 0

    async def tick(self) -> None:
        await self.fold_now()

    async def fold_now(self) -> None:
        """Fold everything stored so far, step by step (stops early when asked to stop)."""
        try:
            while True:
                folded = await asyncio.to_thread(fold, self.store, limit=self.limit)
                self.folds += 1
                if not folded.behind or self.stopping:
                    return
        except Exception as error:  # a DuckDB error, a closed store: the facts stay as they were
            log.warning("folding the send facts failed, will retry: %s", error)
