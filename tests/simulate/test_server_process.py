"""The server in its own process: it reads the market's clock and gives the event store back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from clarion.simulate.sandbox import open_sandbox
from clarion.simulate.server_process import ServerProcess
from clarion.simulate.shared_clock import ClockReader, SharedSimulatedClock

START = datetime(2027, 3, 1, 9, tzinfo=UTC)


def test_a_reader_sees_every_move_of_the_shared_clock() -> None:
    clock = SharedSimulatedClock(START)
    reader = ClockReader(clock.cell)
    clock.advance(timedelta(hours=2, microseconds=7))
    assert reader.now() == clock.now() == START + timedelta(hours=2, microseconds=7)
    clock.set(START + timedelta(days=30))
    assert reader.now() == START + timedelta(days=30)


def test_the_server_process_records_events_at_the_markets_time(tmp_path: Path) -> None:
    box = open_sandbox(tmp_path / "data", start=START, seed=5)
    with ServerProcess(box.instance, box.clock, seed=5) as server:
        assert box.instance.events is None  # the server owns the event store now
        box.clock.set(START + timedelta(days=3, hours=4))
        answer = httpx.post(
            f"{server.base_url}/v1/events",
            json={
                "batch": [{"type": "page_view", "ts": "2027-03-04T12:00:00Z", "anonymous_id": "a1"}]
            },
            headers={"Authorization": f"Bearer {box.keys.write}"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["accepted"] == 1, answer.text
    events = box.instance.events
    assert events is not None  # handed back when the server stopped
    table = events.table("events")
    stamps = table.filter(table.anonymous_id == "a1").received_at.to_pyarrow().to_pylist()
    assert stamps == [START + timedelta(days=3, hours=4)]


def test_a_server_needs_the_instances_own_shared_clock(tmp_path: Path) -> None:
    box = open_sandbox(tmp_path / "data", start=START, seed=5)
    with pytest.raises(ValueError, match="shared"):
        ServerProcess(box.instance, SharedSimulatedClock(START), seed=5)


ORPHAN = """
import sys, time
from datetime import UTC, datetime
from pathlib import Path
from clarion.simulate.sandbox import open_sandbox
from clarion.simulate.server_process import ServerProcess

box = open_sandbox(Path(sys.argv[1]), start=datetime(2027, 3, 1, tzinfo=UTC), seed=5)
server = ServerProcess(box.instance, box.clock, seed=5).__enter__()
print(server._process.pid, flush=True)
time.sleep(600)
"""


def test_a_server_whose_market_is_killed_stops_by_itself(tmp_path: Path) -> None:
    market = subprocess.Popen(
        [sys.executable, "-c", ORPHAN, str(tmp_path / "data")], stdout=subprocess.PIPE, text=True
    )
    assert market.stdout is not None
    child = int(market.stdout.readline())
    market.kill()  # SIGKILL: no chance to stop its server
    market.wait()
    deadline = time.monotonic() + 30
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()  # a zombie has exited; only its entry is left
    return stat.split(")")[-1].split()[0] != "Z"
