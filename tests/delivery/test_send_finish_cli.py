"""`clarion send` with a test-then-send step: the test share goes out, `finish` waits its time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from clarion.delivery.sink import RecordingHandler

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
  - {key: launch, template: spring-hello, experiment: subjects}
"""
EXPERIMENT = """
key: subjects
name: Subject lines
campaign: spring
kind: subject_line
variants:
  - {key: a, content: {subject: "Spring is here"}}
  - {key: b, content: {subject: "Hello {{ first_name }}, spring is here"}}
primary_metric: click_rate
test_then_send: {test_share: 0.5, wait_hours: 4, fallback: a}
"""


@pytest.fixture
def run(tmp_path: Path, sink: tuple[RecordingHandler, int]) -> Run:
    env = {
        **os.environ,
        "CLARION_DATA_DIR": str(tmp_path / "data"),
        "CLARION_SMTP__PORT": str(sink[1]),
        "CLARION_SMTP__RATE_PER_SECOND": "0",
        "COLUMNS": "200",
    }
    env.pop("CLARION_DEBUG", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "clarion", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
        )

    assert run("init").returncode == 0
    return run


def test_the_test_share_is_sent_and_finish_waits_for_the_decision(
    run: Run, tmp_path: Path, sink: tuple[RecordingHandler, int]
) -> None:
    handler, _ = sink
    people = tmp_path / "people.csv"
    people.write_text("email,first_name\n" + "".join(f"p{i}@example.org,P{i}\n" for i in range(20)))
    assert run("contacts", "import", str(people), "--consent", "marketing:email").returncode == 0
    template = tmp_path / "hello.html"
    template.write_text("<html><body><p>Hi {{ first_name }}</p></body></html>")
    added = run(
        "content",
        "add",
        str(template),
        "--key",
        "spring-hello",
        "--kind",
        "html",
        "--subject",
        "Default",
    )
    assert added.returncode == 0, added.stderr
    assert run("content", "publish", "spring-hello").returncode == 0
    (tmp_path / "spring.yaml").write_text(PLAN)
    assert run("campaign", "apply", str(tmp_path / "spring.yaml")).returncode == 0
    assert run("campaign", "transition", "spring", "scheduled").returncode == 0
    (tmp_path / "subjects.yaml").write_text(EXPERIMENT)
    created = run("experiment", "create", str(tmp_path / "subjects.yaml"))
    assert created.returncode == 0, created.stderr

    sent = run("send", "spring", "--json")

    assert sent.returncode == 0, sent.stderr
    shown = json.loads(sent.stdout)
    assert shown["state"] == "running" and shown["held"] > 0
    assert shown["sent"] + shown["held"] == 20 and len(handler.received) == shown["sent"]
    waiting = run("send", "finish", "spring", "--step", "launch")
    assert waiting.returncode == 0, waiting.stderr
    assert "Waiting: the test share is still being measured" in waiting.stderr
    assert f"{shown['held']} held" in waiting.stdout
    assert len(handler.received) == shown["sent"]
