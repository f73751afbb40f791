"""`clarion serve --intake-workers 2`: event batches on the intake port, committed by the owner."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from clarion.stores.events import EventStore

TS = "2027-03-01T09:00:00Z"
SERVE = [sys.executable, "-m", "clarion", "serve", "--intake-workers", "2"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clarion(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "clarion", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip()


@dataclass
class Served:
    """A running `clarion serve` with intake workers, and what a client needs to reach it."""

    process: subprocess.Popen[str]
    env: dict[str, str]
    data_dir: Path
    main: str
    intake: str
    write_key: str

    def post(self, body: object, path: str = "/v1/events", **headers: str) -> httpx.Response:
        sent = {"Authorization": f"Bearer {self.write_key}", **headers}
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return httpx.post(f"{self.intake}{path}", content=content, headers=sent, timeout=10)

    def workers(self) -> list[int]:
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        )
        return sorted(int(pid) for pid in found.stdout.split())

    def stored_ids(self) -> list[str]:
        with EventStore.open(f"duckdb://{self.data_dir / 'events.duckdb'}", read_only=True) as s:
            return sorted(s.table("events").event_id.to_pyarrow().to_pylist())


def _start(env: dict[str, str], data_dir: Path, write_key: str) -> Served:
    main, intake = _free_port(), _free_port()
    process = subprocess.Popen(
        [*SERVE, "--port", str(main), "--intake-port", str(intake)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Served(
        process, env, data_dir, f"http://127.0.0.1:{main}", f"http://127.0.0.1:{intake}", write_key
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            up = httpx.get(f"{served.main}/healthz", timeout=1).status_code == 200
            if up and served.post({"batch": []}).status_code == 200:
                return served
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"server did not start: {process.communicate()[1]}")
        time.sleep(0.2)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    env = {**os.environ, "CLARION_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    _clarion(env, "init")
    key = _clarion(env, "keys", "create", "--kind", "write")
    server = _start(env, tmp_path / "data", key)
    yield server
    if server.process.poll() is None:
        server.process.terminate()
        server.process.wait(timeout=60)


def event(event_id: str, **fields: object) -> dict[str, object]:
    return {"event_id": event_id, "type": "page_view", "ts": TS, "anonymous_id": "a", **fields}


def test_the_intake_port_stores_checks_and_explains_like_the_main_port(served: Served) -> None:
    batch = [event(f"e{i}") for i in range(97)]
    batch[10:10] = [{"type": "page_view", "ts": TS}]  # no identity
    batch[20:20] = [event("bad-ts", ts="yesterday")]
    batch[30:30] = [event("bad-type", type="<script>")]
    hostile = event("e-hostile", url="javascript:alert(1)", properties={"q": "'; DROP TABLE x;--"})

    first = served.post({"batch": [*batch, hostile]})
    replay = served.post({"batch": [*batch, hostile]})
    future = served.post({"batch": [event("e-future", ts="2099-01-01T00:00:00Z")]})
    by_email = served.post({"batch": [{"type": "signup", "ts": TS, "email": "Ann@Example.com"}]})

    assert first.status_code == 200, first.text
    answer = first.json()
    assert (answer["accepted"], answer["duplicates"]) == (98, 0)
    assert [(r["index"], r["field"]) for r in answer["rejected"]] == [
        (10, "contact_id"),
        (20, "ts"),
        (30, "type"),
    ]
    assert (replay.json()["accepted"], replay.json()["duplicates"]) == (0, 98)
    assert future.json()["accepted"] == 1  # clamped to its arrival, and flagged
    assert by_email.json()["accepted"] == 1
    checked = served.post({"batch": [event("only-checked")]}, "/v1/events/validate")
    assert checked.json() == {"valid": 1, "rejected": []}

    served.process.terminate()  # a clean stop: workers first, then the last flush
    served.process.wait(timeout=60)  # (uvicorn ends by raising the signal it handled)
    assert "Traceback" not in served.process.communicate()[1]
    ids = served.stored_ids()
    assert len(ids) == len(set(ids)) == 100
    assert "e-hostile" in ids and "e-future" in ids and "only-checked" not in ids


def test_the_intake_port_refuses_bad_requests_with_the_main_ports_errors(served: Served) -> None:
    unknown = served.post({"batch": [event("x")]}, Authorization="Bearer wk_forged")
    malformed = served.post(b'{"batch": [', Authorization=f"Bearer {served.write_key}")
    huge = served.post(b"x" * 1_100_000)
    too_many = served.post({"batch": [event(f"m{i}") for i in range(501)]})
    elsewhere = httpx.get(f"{served.intake}/v1/campaigns", timeout=5)
    pixel = httpx.get(f"{served.intake}/t/o/anything.gif", timeout=5)
    preflight = httpx.options(f"{served.intake}/v1/events", timeout=5)

    assert unknown.status_code == 401
    assert malformed.status_code == 400
    assert malformed.json()["error"]["details"]["position"] == 11
    assert huge.status_code == 413
    assert too_many.status_code == 413
    assert elsewhere.status_code == 404 and "main port" in elsewhere.json()["error"]["message"]
    assert pixel.status_code == 404  # opens and clicks are the main port's
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"


def test_many_concurrent_single_events_are_each_acknowledged_once(served: Served) -> None:
    def send(i: int) -> dict[str, object]:
        with httpx.Client(timeout=10) as client:
            answer = client.post(
                f"{served.intake}/v1/events",
                content=orjson.dumps({"batch": [event(f"c{i % 150}")]}),
                headers={"Authorization": f"Bearer {served.write_key}"},
            )
            return dict(answer.json())

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(send, range(300)))  # every id twice, over both workers

    assert sum(int(str(a["accepted"])) for a in answers) == 150
    assert sum(int(str(a["duplicates"])) for a in answers) == 150


def test_a_worker_that_dies_is_replaced_and_nothing_it_held_is_acknowledged(
    served: Served,
) -> None:
    before = served.workers()
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while (now := served.workers()) == before or len(now) < 2:
        assert time.monotonic() < deadline, "the worker was not replaced"
        time.sleep(0.2)

    answers = [served.post({"batch": [event(f"after-{i}")]}) for i in range(20)]

    assert all(a.status_code == 200 and a.json()["accepted"] == 1 for a in answers)


def test_when_the_owner_is_killed_the_workers_acknowledge_nothing_more_and_leave(
    served: Served, tmp_path: Path
) -> None:
    acknowledged = []
    for i in range(30):
        answer = served.post({"batch": [event(f"k{i}-{j}") for j in range(20)]})
        assert answer.status_code == 200
        acknowledged += [f"k{i}-{j}" for j in range(20)]
    workers = served.workers()

    served.process.send_signal(signal.SIGKILL)
    served.process.wait()
    after = None
    with contextlib.suppress(httpx.HTTPError):  # a worker already gone refuses the connection
        after = served.post({"batch": [event("after-kill")]})
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "workers outlived their owner"
        time.sleep(0.1)

    assert after is None or after.status_code == 503
    restarted = _start(served.env, served.data_dir, served.write_key)  # replays DuckDB's log
    restarted.process.terminate()
    restarted.process.wait(timeout=60)
    ids = restarted.stored_ids()
    assert set(acknowledged) <= set(ids) and "after-kill" not in ids
    assert len(ids) == len(set(ids))


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        return stat.split(")")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_an_intake_port_in_use_is_named_before_anything_starts(tmp_path: Path) -> None:
    env = {**os.environ, "CLARION_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    _clarion(env, "init")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*SERVE, "--port", str(_free_port()), "--intake-port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port} for the intake workers" in done.stderr + done.stdout
