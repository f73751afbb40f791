"""Delivery: messages/s through the real worker to a loopback SMTP sink, against the ceiling."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._delivery_worker import NewsletterRenderer
from benchmarks.harness import Record
from clarion.audiences import service as audiences
from clarion.campaigns import service as campaigns
from clarion.campaigns.lifecycle import CampaignState
from clarion.campaigns.plan import parse_plan
from clarion.core.clock import SystemClock
from clarion.core.ids import SeededIds
from clarion.delivery import service as delivery
from clarion.delivery.compose import Composer
from clarion.delivery.mime import envelope_for
from clarion.instance import initialise, open_instance
from clarion.settings import Settings

NAME = "delivery"
ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 0.6
TARGET_RATE = 1000.0
ROUNDS = 3  # full mode: pipeline and ceiling alternate three times; medians are reported
PEERS = "peers: ~6,000/min (newsletter sender default), ~250/min (marketing suite), published"


def _sink(record: Path) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "clarion.delivery.sink", "--record", str(record)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline().split()[1])


def _child(args: list[str], env: dict[str, str], stdin: bytes = b"") -> tuple[dict[str, Any], int]:
    """Run the child; its JSON result and its peak resident memory in bytes."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._delivery_worker", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(stdin)
    process.stdin.close()
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({process.returncode}): {output!r}")
    return json.loads(output), usage.ru_maxrss * 1024  # Linux reports KiB


def _prepare(data_dir: Path, recipients: int) -> str:
    settings = Settings(data_dir=data_dir)
    initialise(settings, clock=SystemClock(), ids=SeededIds(1))
    instance = open_instance(settings, clock=SystemClock(), ids=SeededIds(2))
    try:
        workspace = instance.workspace()
        events = instance.open_events()
        for start in range(0, recipients, 1000):
            items = [
                {
                    "email": f"reader{i:06d}@example.org",
                    "first_name": f"Reader{i}",
                    "city": "Lyon",
                    "consents": ["marketing:email"],
                }
                for i in range(start, min(start + 1000, recipients))
            ]
            audiences.upsert_contacts(
                instance.store,
                events,
                workspace.id,
                items,
                clock=instance.clock,
                ids=instance.ids,
                source="bench",
            )
        plan = parse_plan(
            {
                "key": "spring",
                "name": "Spring",
                "objective": "Benchmark",
                "start_date": "2027-03-01",
                "end_date": "2027-03-31",
                "budget": {"total": 0},
                "audience": "all",
                "email": [{"key": "news", "template": "newsletter", "utm": {"source": "news"}}],
            }
        )
        campaigns.apply_plan(
            instance.store, workspace.id, plan, clock=instance.clock, ids=instance.ids, actor="b"
        )
        campaigns.transition(
            instance.store,
            workspace.id,
            "spring",
            CampaignState.SCHEDULED,
            clock=instance.clock,
            actor="bench",
        )
        return delivery.start_send(
            instance.store,
            events,
            workspace.id,
            "spring",
            step=None,
            clock=instance.clock,
            ids=instance.ids,
            actor="bench",
        ).send.id
    finally:
        instance.close()


def _sample(key: bytes) -> bytes:
    composer = Composer(
        renderer=NewsletterRenderer(),
        envelope=envelope_for("Spring Team <news@mail.example.com>"),
        signing_key=key,
        public_url="https://go.example.com",
        utm={"source": "news"},
        workspace_id="ws_bench",
        campaign_id="cmp_bench",
    )
    contact = {"id": "ct_1", "email": "reader000001@example.org", "first_name": "Reader1"}
    payload, _ = composer.compose("msg_sample", contact, None, datetime.now(UTC))
    return payload


def _measure(recipients: int, rounds: int = 1) -> tuple[float, float, int]:
    """(pipeline msg/s, ceiling msg/s, worker peak bytes) for a send of ``recipients``:
    medians of ``rounds`` rounds, each a fresh send then the ceiling on the same sink, so
    both see the machine in the same state (it drifts by ±20% within minutes)."""
    rates: list[float] = []
    ceilings: list[float] = []
    peak = 0
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="clarion-bench-delivery-") as tmp:
            data_dir = Path(tmp) / "data"
            send_id = _prepare(data_dir, recipients)
            env = {**os.environ, "CLARION_DATA_DIR": str(data_dir)}
            sink, port = _sink(Path(tmp) / "accepted.tsv")
            try:
                result, used = _child(["pipeline", send_id, str(port)], env)
                key = Settings(data_dir=data_dir).secrets.signing_key.get_secret_value()
                ceiling, _ = _child(
                    ["ceiling", str(recipients), str(port)], env, _sample(key.encode())
                )
            finally:
                sink.send_signal(signal.SIGTERM)
                sink.wait(timeout=30)
        if result["messages"] != recipients:
            raise RuntimeError(f"sent {result['messages']} of {recipients}")
        rates.append(result["messages"] / result["seconds"])
        ceilings.append(ceiling["messages"] / ceiling["seconds"])
        peak = max(peak, used)
    return statistics.median(rates), statistics.median(ceilings), peak


def run(quick: bool) -> list[Record]:
    recipients = 200 if quick else 10_000
    started = time.perf_counter()
    rounds = 1 if quick else ROUNDS
    rate, ceiling, peak = _measure(recipients, rounds)
    ratio = rate / ceiling
    print(
        f"delivery: {recipients:,} messages at {rate:,.0f}/s, ceiling {ceiling:,.0f}/s "
        f"(medians of {rounds} alternating rounds; ratio {ratio:.2f}); "
        f"worker peak {peak / 2**20:.0f} MiB; "
        f"{time.perf_counter() - started:.0f} s in all"
    )
    records = [
        Record(
            NAME,
            f"messages/s, {recipients:,} recipients (median of {rounds})",
            rate,
            "msg/s",
            "same sink, pre-rendered bytes, same pool",
            ratio,
            f"≥ {TARGET_RATIO}× ceiling",
            ratio >= TARGET_RATIO,
        ),
        Record(
            NAME,
            "absolute rate",
            rate,
            "msg/s",
            None,
            None,
            f"≥ {TARGET_RATE:,.0f} msg/s ({PEERS})",
            rate >= TARGET_RATE,
        ),
        Record(NAME, "ceiling (pre-rendered bytes)", ceiling, "msg/s"),
    ]
    memory_recipients = recipients if quick else 100_000
    if memory_recipients == recipients:
        memory = peak
    else:
        _, _, memory = _measure(memory_recipients)
    records.append(
        Record(NAME, f"worker peak memory, {memory_recipients:,} recipients", memory / 2**20, "MiB")
    )
    return records
