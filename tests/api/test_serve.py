"""`clarion serve` as a real server on 127.0.0.1, and its ownership of the event store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from shared_paths import EXAMPLES


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clarion(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clarion", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {**os.environ, "CLARION_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    assert _clarion(env, "init").returncode == 0
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "clarion", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"server did not start: {process.communicate()[1]}")
        time.sleep(0.2)
    yield base, env
    process.terminate()
    process.wait(timeout=30)


def test_a_campaign_goes_through_the_real_server(server: tuple[str, dict[str, str]]) -> None:
    base, env = server
    key = _clarion(env, "keys", "create", "--kind", "secret").stdout.strip()
    plan = yaml.safe_load((EXAMPLES / "spring-launch.yaml").read_text())
    plan = {**plan, "start_date": str(plan["start_date"]), "end_date": str(plan["end_date"])}
    headers = {"Authorization": f"Bearer {key}"}
    created = httpx.post(f"{base}/v1/campaigns", json=plan, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    # The CLI sees what the server wrote: both use the same app store.
    shown = _clarion(env, "campaign", "show", "spring-launch-2027", "--json")
    assert '"state": "draft"' in shown.stdout


def test_the_server_owns_the_event_store(server: tuple[str, dict[str, str]]) -> None:
    _base, env = server
    started = time.monotonic()
    result = _clarion(env, "init")
    assert result.returncode == 1
    assert "held by another process (PID" in result.stderr
    assert "clarion serve" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 20  # refuses at once, never waits forever
