"""Simulator loop: simulated contact-days per second through the real edges, small vs 10× larger."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import Record
from clarion.simulate.market import Scenario, SimulatedMarket
from clarion.simulate.sandbox import open_sandbox

NAME = "simulator"
START = datetime(2027, 3, 1, tzinfo=UTC)
DAYS = 2  # one send day and one quiet day: both kinds of day are in the figure
TARGET = "linear: 10× the contacts at ≥ 0.8× the contact-days/s"


def contact_days_per_second(contacts: int, days: int = DAYS) -> float:
    """Run the whole loop (import, send, pixel, redirect, events, conversions, spend) once."""
    with tempfile.TemporaryDirectory(prefix="clarion-bench-sim-") as directory:
        workdir = Path(directory)
        box = open_sandbox(workdir / "data", start=START, seed=1)
        try:
            market = SimulatedMarket(
                box.instance,
                box.clock,
                Scenario(contacts=contacts, days=days, seed=1, start=START),
                workspace_id=box.workspace_id,
                keys=box.keys,
                workdir=workdir,
            )
            began = time.perf_counter()
            market.run()
            seconds = time.perf_counter() - began
        finally:
            box.instance.close()
    return contacts * days / seconds


def run(quick: bool) -> list[Record]:
    small, large = (20, 200) if quick else (10_000, 100_000)
    days = 1 if quick else DAYS
    small_rate = contact_days_per_second(small, days)
    large_rate = contact_days_per_second(large, days)
    ratio = large_rate / small_rate
    plural = "s" if days > 1 else ""
    return [
        Record(
            benchmark=NAME,
            metric=f"loop, {small:,} contacts × {days} day{plural}",
            value=small_rate,
            unit="contact-days/s",
        ),
        Record(
            benchmark=NAME,
            metric=f"loop, {large:,} contacts × {days} day{plural}",
            value=large_rate,
            unit="contact-days/s",
            reference=f"the same loop with {small:,} contacts, same run",
            ratio=ratio,
            target=TARGET,
            met=ratio >= 0.8,
        ),
    ]
