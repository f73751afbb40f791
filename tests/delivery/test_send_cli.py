"""`clarion send` end to end: import, template, plan, send with progress, status, pause, cancel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clarion.delivery.sink import RecordingHandler, start_sink

Run = Callable[..., subprocess.CompletedProcess[str]]

PLAN = """
key: spring
name: Spring
objective: Launch
start_date: 2027-03-01
end_date: 2027-03-31
budget: {total: 0}
audience: all
email:
  - key: launch
    template: spring-hello
    utm: {source: newsletter, medium: email}
"""
TEMPLATE = '<html><body><p>Hi {{ first_name | default("there") }}</p></body></html>'


@pytest.fixture
def sink() -> Iterator[RecordingHandler]:
    handler = RecordingHandler(keep=True)
    controller = start_sink(handler)
    handler.port = controller.port  # type: ignore[attr-defined]
    yield handler
    controller.stop()


@pytest.fixture
def run(tmp_path: Path, sink: RecordingHandler) -> Run:
    env = {
        **os.environ,
        "CLARION_DATA_DIR": str(tmp_path / "data"),
        "CLARION_SMTP__PORT": str(sink.port),  # type: ignore[attr-defined]
        "CLARION_SMTP__RATE_PER_SECOND": "0",
        "CLARION_SMTP__FROM_ADDRESS": "News <news@mail.example.com>",
        "COLUMNS": "200",
    }
    env.pop("CLARION_DEBUG", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "clarion", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    assert run("init").returncode == 0
    return run


def _prepare(run: Run, tmp_path: Path, people: int = 5) -> None:
    csv = tmp_path / "people.csv"
    rows = "".join(f"p{i}@example.org,P{i}\n" for i in range(people))
    csv.write_text("email,first_name\n" + rows)
    assert run("contacts", "import", str(csv), "--consent", "marketing:email").returncode == 0
    template = tmp_path / "hello.html"
    template.write_text(TEMPLATE)
    added = run(
        "content",
        "add",
        str(template),
        "--key",
        "spring-hello",
        "--kind",
        "html",
        "--subject",
        "Hello {{ first_name }}",
    )
    assert added.returncode == 0, added.stderr
    assert run("content", "publish", "spring-hello").returncode == 0
    plan = tmp_path / "spring.yaml"
    plan.write_text(PLAN)
    assert run("campaign", "apply", str(plan)).returncode == 0
    assert run("campaign", "transition", "spring", "scheduled").returncode == 0


def test_send_delivers_and_reports(run: Run, tmp_path: Path, sink: RecordingHandler) -> None:
    _prepare(run, tmp_path)

    sent = run("send", "spring", "--json")

    assert sent.returncode == 0, sent.stderr
    result = json.loads(sent.stdout)
    assert (result["state"], result["sent"], result["remaining"]) == ("done", 5, 0)
    assert len(sink.received) == 5
    again = run("send", "spring", "--step", "launch")
    assert again.returncode == 0 and "Found send" in again.stderr
    assert len(sink.received) == 5  # the same step again sends nobody twice
    status = run("send", "status")
    assert result["id"] in status.stdout and "done" in status.stdout


def test_pause_cancel_and_mistakes(run: Run, tmp_path: Path, sink: RecordingHandler) -> None:
    _prepare(run, tmp_path)
    created = json.loads(run("send", "spring", "--detach", "--json").stdout)
    assert created["state"] == "running" and created["remaining"] == 5

    paused = run("send", "pause", created["id"])
    assert paused.returncode == 0 and "is paused" in paused.stdout
    assert "0 sent" in run("send", "spring").stdout  # a paused send is not sent
    cancelled = json.loads(run("send", "cancel", created["id"], "--json").stdout)
    assert cancelled["state"] == "cancelled" and cancelled["cancelled"] == 5
    assert sink.received == []

    for args, words in [
        (("send", "nope"), "campaign 'nope' not found"),
        (("send", "pause"), "name the send to pause"),
        (("send", "status", "snd_nope"), "send 'snd_nope' not found"),
        (("send", "spring", "--step", "other"), "no email step 'other'"),
    ]:
        result = run(*args)
        assert result.returncode == 1, args
        assert words in result.stderr and "Traceback" not in result.stderr
