"""kill -9 the worker at random points during a send: every recipient gets the email, and
duplicates never exceed the counted accept-before-record window."""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from clarion.core.clock import SystemClock
from clarion.core.ids import SeededIds
from clarion.delivery import service as delivery
from clarion.delivery.tables import outbox_messages
from clarion.instance import initialise, open_instance
from clarion.settings import Settings

from delivery_world import add_contacts, email_campaign

HERE = Path(__file__).resolve().parent


@pytest.fixture
def sink_process(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    record = tmp_path / "accepted.tsv"
    process = subprocess.Popen(
        [sys.executable, "-m", "clarion.delivery.sink", "--record", str(record)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().split()
    assert line[0] == "ready", line
    yield int(line[1]), record
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)


def _worker(env: dict[str, str], send_id: str, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "crash_worker.py"), send_id, str(port)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("recipients", "kills"),
    [(2_000, 5), pytest.param(20_000, 20, marks=[pytest.mark.slow, pytest.mark.timeout(900)])],
)
def test_kill_9_at_random_points_misses_nobody(
    tmp_path: Path, sink_process: tuple[int, Path], recipients: int, kills: int
) -> None:
    port, record = sink_process
    settings = Settings(data_dir=tmp_path / "data")
    initialise(settings, clock=SystemClock(), ids=SeededIds(1))
    instance = open_instance(settings, clock=SystemClock(), ids=SeededIds(2))
    workspace = instance.workspace()
    people = [{"email": f"r{i:05d}@example.org", "first_name": f"R{i}"} for i in range(recipients)]
    events = instance.open_events()
    add_contacts(
        instance.store, events, workspace.id, people, clock=instance.clock, ids=instance.ids
    )
    email_campaign(instance.store, workspace.id, clock=instance.clock, ids=instance.ids)
    send_id = delivery.start_send(
        instance.store,
        events,
        workspace.id,
        "spring",
        step=None,
        clock=instance.clock,
        ids=instance.ids,
        actor="test",
    ).send.id
    instance.close()  # the worker processes own the event store from here on

    env = {
        **os.environ,
        "CLARION_DATA_DIR": str(settings.data_dir),
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    rng = random.Random(20)
    started = time.monotonic()
    killed = 0
    while killed < kills:
        worker = _worker(env, send_id, port)
        assert worker.stdout is not None
        assert worker.stdout.readline().startswith("ready"), "the worker did not start"
        time.sleep(rng.uniform(0.0, 0.8))
        if worker.poll() is not None:
            break  # it finished before the kill: nothing left to interrupt
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        killed += 1
    final = _worker(env, send_id, port)
    out, _ = final.communicate(timeout=600)
    assert "finished" in out
    elapsed = time.monotonic() - started

    accepted = collections.Counter(line.split("\t")[0] for line in record.read_text().splitlines())
    instance = open_instance(settings)
    with instance.store.reading() as conn:
        rows = list(
            conn.execute(select(outbox_messages).where(outbox_messages.c.send_id == send_id))
        )
    window = sum(r.in_doubt for r in rows)
    duplicates = sum(n - 1 for n in accepted.values())
    print(
        f"\ncrash test: {recipients:,} recipients, {killed} kills, {elapsed:.1f} s, "
        f"{duplicates} duplicates, counted window {window}"
    )
    assert {r.state for r in rows} == {"sent"}
    assert set(accepted) == {r.id for r in rows}  # every recipient, nobody else
    assert duplicates <= window
    events = instance.open_events()
    logged = (
        events.connection.con.sql(
            "SELECT count(*) AS n, count(DISTINCT message_id) AS d FROM message_sends"
        )
        .to_arrow_table()
        .to_pylist()
    )
    assert logged == [{"n": recipients, "d": recipients}]  # the event store has each once
    instance.close()
