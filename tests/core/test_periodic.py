"""Periodic work ticks on time, once at start when asked, and stops after the tick under way."""

from __future__ import annotations

import asyncio

from clarion.core.periodic import Periodic


class Counter(Periodic):
    def __init__(self, every: float, *, at_start: bool = False, takes: float = 0.0) -> None:
        super().__init__(every)
        self.tick_at_start = at_start
        self.takes = takes
        self.started = 0
        self.finished = 0

    async def tick(self) -> None:
        self.started += 1
        await asyncio.sleep(self.takes)
        self.finished += 1


def run(periodic: Periodic, seconds: float) -> None:
    async def scenario() -> None:
        await periodic.start()
        await asyncio.sleep(seconds)
        await periodic.stop()

    asyncio.run(scenario())


def test_it_ticks_every_interval_and_not_at_start_unless_asked() -> None:
    late = Counter(every=0.2)
    run(late, 0.1)
    assert late.started == 0

    early = Counter(every=0.2, at_start=True)
    run(early, 0.1)
    assert early.started == 1

    steady = Counter(every=0.02)
    run(steady, 0.3)
    assert 5 <= steady.started <= 15


def test_stop_lets_the_tick_under_way_finish_and_starts_no_other() -> None:
    slow = Counter(every=0.01, at_start=True, takes=0.2)
    run(slow, 0.05)
    assert (slow.started, slow.finished) == (1, 1)
    assert slow.stopping


def test_a_stopped_ticker_can_be_stopped_again() -> None:
    ticker = Counter(every=0.01)

    async def scenario() -> None:
        await ticker.start()
        await ticker.stop()
        await ticker.stop()

    asyncio.run(scenario())
    assert ticker.started == 0
