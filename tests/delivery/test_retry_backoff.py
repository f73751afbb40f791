"""A temporary refusal (4xx) is retried after a delay that doubles with each attempt."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from clarion.auth.contracts import Workspace
from clarion.delivery import service as delivery
from clarion.delivery.sink import RecordingHandler, start_sink
from clarion.delivery.smtp import SmtpPool
from clarion.delivery.tables import outbox_messages
from clarion.delivery.worker import SendWorker, WorkerConfig
from clarion.instance import Instance

from delivery_world import GreetingRenderer, add_contacts, email_campaign, smtp_for


@pytest.fixture
def sink() -> Iterator[int]:
    controller = start_sink(RecordingHandler())
    yield controller.port
    controller.stop()


def _run(instance: Instance, port: int, send_id: str) -> int:
    smtp = smtp_for(port, retry_seconds=60)
    key = instance.settings.secrets.signing_key.get_secret_value().encode()

    async def go() -> int:
        pool = SmtpPool(smtp)
        worker = SendWorker(
            instance.store,
            instance.open_events(),
            pool,
            lambda send: GreetingRenderer(),
            clock=instance.clock,
            config=WorkerConfig(smtp, key, "https://go.example.com", "w"),
        )
        try:
            return await worker.run_send(send_id)
        finally:
            await pool.close()

    return asyncio.run(go())


def _row(instance: Instance, send_id: str, contact_id: str) -> Any:
    with instance.store.reading() as conn:
        return conn.execute(
            select(outbox_messages).where(
                outbox_messages.c.send_id == send_id, outbox_messages.c.contact_id == contact_id
            )
        ).one()


def test_a_greylisted_row_waits_one_then_two_minutes_then_fails(
    instance: Instance, workspace: Workspace, sink: int
) -> None:
    clock = instance.clock
    ok, later = add_contacts(
        instance.store,
        instance.open_events(),
        workspace.id,
        [{"email": "ok@example.org"}, {"email": "later@example.org"}],
        clock=clock,
        ids=instance.ids,
    )
    email_campaign(instance.store, workspace.id, clock=clock, ids=instance.ids)
    send_id = delivery.start_send(
        instance.store,
        instance.open_events(),
        workspace.id,
        "spring",
        step=None,
        clock=clock,
        ids=instance.ids,
        actor="test",
    ).send.id
    start = clock.now()

    assert _run(instance, sink, send_id) == 2
    row = _row(instance, send_id, later)
    assert (row.state, row.attempts, row.in_doubt) == ("queued", 1, 1)
    assert row.next_attempt_at == start + timedelta(seconds=60)
    assert _row(instance, send_id, ok).state == "sent"

    assert _run(instance, sink, send_id) == 0  # not before its time
    assert delivery.progress(instance.store, workspace.id, send_id).send.state.value == "running"

    clock.advance(timedelta(seconds=60))  # type: ignore[attr-defined]
    assert _run(instance, sink, send_id) == 1
    row = _row(instance, send_id, later)
    assert (row.state, row.attempts) == ("queued", 2)
    assert row.next_attempt_at == clock.now() + timedelta(seconds=120)  # doubled

    clock.advance(timedelta(seconds=119))  # type: ignore[attr-defined]
    assert _run(instance, sink, send_id) == 0
    clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    assert _run(instance, sink, send_id) == 1
    row = _row(instance, send_id, later)
    assert (row.state, row.attempts, row.in_doubt) == ("failed", 3, 2)
    assert row.detail.startswith("451")
    assert delivery.progress(instance.store, workspace.id, send_id).send.state.value == "done"
