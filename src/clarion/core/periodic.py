"""Periodic work on the server's event loop: a tick every few seconds until stopped."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod


class Periodic(ABC):
    """Calls ``tick`` every ``every`` seconds (and once at start if ``tick_at_start``).

    ``stop`` lets the tick under way finish and calls no other. A tick handles its own
    errors: an exception that escapes it ends the ticking.
    """

    name = "clarion-periodic"  # the asyncio task's name
    tick_at_start = False

    def __init__(self, every: float) -> None:
        self.every = every
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def stopping(self) -> bool:
        """Whether ``stop`` was called: a long tick may end early."""
        return self._stop.is_set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    @abstractmethod
    async def tick(self) -> None:
        """One round of the work."""

    async def _run(self) -> None:
        if self.tick_at_start and not self._stop.is_set():
            await self.tick()
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.every)
            if self._stop.is_set():
                return
            await self.tick()
