"""A simulated clock another process can read: the instant lives in shared memory."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from clarion.core.clock import SimulatedClock

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(microseconds=1)


class SharedSimulatedClock(SimulatedClock):
    """A ``SimulatedClock`` whose every move is also written to ``cell`` (microseconds since
    the epoch), where a ``ClockReader`` in a server process reads it."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        # A spawned child gets the cell at creation; an aligned 64-bit store is read whole.
        self.cell: Any = multiprocessing.get_context("spawn").RawValue("q", _micros(self.now()))

    def advance(self, delta: timedelta) -> datetime:
        instant = super().advance(delta)
        self.cell.value = _micros(instant)
        return instant

    def set(self, instant: datetime) -> datetime:
        moved = super().set(instant)
        self.cell.value = _micros(moved)
        return moved


class ClockReader:
    """The time a ``SharedSimulatedClock`` in another process was last set to."""

    def __init__(self, cell: Any) -> None:
        self.cell = cell

    def now(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self.cell.value)
