"""A campaign's email step sent through a real SMTP sink on loopback: what arrives, and what not."""

from __future__ import annotations

import asyncio
import base64
import email
import shutil
import smtplib
import subprocess
import sys
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import dkim
import pytest
from sqlalchemy import select

from clarion.audiences import service as audiences
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.delivery import service as delivery
from clarion.delivery.dkim import DkimKey
from clarion.delivery.sink import RecordingHandler, start_sink
from clarion.delivery.smtp import SmtpPool
from clarion.delivery.tables import outbox_messages
from clarion.delivery.worker import SendWorker, WorkerConfig
from clarion.instance import Instance
from clarion.settings import SmtpSettings
from clarion.tracking import service as tracking
from clarion.tracking.tokens import verify

from delivery_world import DOCS, OFFER, GreetingRenderer, add_contacts, email_campaign, smtp_for

PUBLIC = "https://go.example.com"


def _key(instance: Instance) -> bytes:
    return instance.settings.secrets.signing_key.get_secret_value().encode()


def _run(
    instance: Instance,
    smtp: SmtpSettings,
    send_id: str,
    *,
    dkim_key: DkimKey | None = None,
    on_progress: Any = None,
) -> int:
    async def go() -> int:
        pool = SmtpPool(smtp)
        worker = SendWorker(
            instance.store,
            instance.open_events(),
            pool,
            lambda send: GreetingRenderer(),
            clock=instance.clock,
            config=WorkerConfig(smtp, _key(instance), PUBLIC, "test-worker", dkim=dkim_key),
            on_progress=on_progress,
        )
        try:
            return await worker.run_send(send_id)
        finally:
            await pool.close()

    return asyncio.run(go())


def _people(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"email": f"person{i:03d}@example.org", "first_name": f"P{i}", **extra} for i in range(n)
    ]


def _start(instance: Instance, workspace: Workspace, step: str | None = None) -> str:
    started = delivery.start_send(
        instance.store,
        instance.open_events(),
        workspace.id,
        "spring",
        step=step,
        clock=instance.clock,
        ids=instance.ids,
        actor="test",
    )
    return started.send.id


def _parsed(raw: bytes) -> Message:
    return email.message_from_bytes(raw)


def _bodies(message: Message) -> tuple[str, str]:
    text = html = ""
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if part.get_content_type() == "text/plain" and isinstance(payload, bytes):
            text = payload.decode()
        if part.get_content_type() == "text/html" and isinstance(payload, bytes):
            html = payload.decode()
    return text, html


def test_every_email_carries_the_agreed_headers_and_signed_links(
    instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int]
) -> None:
    handler, port = sink
    events = instance.open_events()
    add_contacts(
        instance.store, events, workspace.id, _people(3), clock=instance.clock, ids=instance.ids
    )
    email_campaign(instance.store, workspace.id, clock=instance.clock, ids=instance.ids)
    send_id = _start(instance, workspace)

    handed = _run(instance, smtp_for(port), send_id)

    assert handed == 3 and len(handler.received) == 3
    key = _key(instance)
    for received in handler.received:
        message = _parsed(received.data)
        message_id = message["X-Clarion-Message"]
        assert message["Message-ID"] == f"<{message_id}@mail.example.com>"
        assert message["From"] == "Spring Team <news@mail.example.com>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = message["List-Unsubscribe"].strip("<>")
        assert unsubscribe.startswith(f"{PUBLIC}/u/")
        claims = verify(unsubscribe.rsplit("/", 1)[1], key, "u")
        assert claims is not None and claims.message_id == message_id
        assert received.recipients == [message["To"].strip("<>")]
        text, html = _bodies(message)
        assert OFFER not in html and DOCS not in html and OFFER not in text
        assert f"{PUBLIC}/t/o/" in html  # the open pixel
        tracked = tracking.find_message(instance.store, message_id)
        assert tracked is not None and tracked.links == (OFFER, DOCS)
        clicks = [part.split('"')[0] for part in html.split(f'href="{PUBLIC}/t/c/')[1:]]
        resolved = [tracking.resolve_click(instance.store, token, key=key) for token in clicks]
        assert [r[2] for r in resolved if r] == [OFFER, DOCS]
        assert f"{PUBLIC}/t/c/" in text


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl binary for a key")
def test_dkim_signatures_verify(
    instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int], tmp_path: Path
) -> None:
    handler, port = sink
    key_file = tmp_path / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(key_file), "2048"],
        check=True,
        capture_output=True,
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key_file), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    pem = key_file.read_bytes()
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    events = instance.open_events()
    add_contacts(
        instance.store, events, workspace.id, _people(2), clock=instance.clock, ids=instance.ids
    )
    email_campaign(instance.store, workspace.id, clock=instance.clock, ids=instance.ids)
    send_id = _start(instance, workspace)

    _run(instance, smtp_for(port), send_id, dkim_key=DkimKey("mail.example.com", "s2027", pem))

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"s2027._domainkey.mail.example.com."
        return record

    assert len(handler.received) == 2
    for received in handler.received:
        assert received.data.startswith(b"DKIM-Signature:")
        assert dkim.verify(received.data, dnsfunc=dns)
        tampered = received.data.replace(b"Subject: Hello", b"Subject: Hullo")
        assert not dkim.verify(tampered, dnsfunc=dns)


def test_no_email_to_suppressed_withdrawn_or_unconsenting_contacts(
    instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int]
) -> None:
    handler, port = sink
    events, clock, ids = instance.open_events(), instance.clock, instance.ids
    people = [
        {"email": "fine@example.org", "first_name": "Fine"},
        {"email": "never@example.org", "first_name": "Never", "consents": []},
        {"email": "bounced@example.org", "first_name": "Bounced"},
        {"email": "gone@example.org", "first_name": "Gone"},
        {"first_name": "NoAddress", "external_id": "crm-9", "phone": "+49 30 1234567"},
        {"email": "broken@example.org", "first_name": "Broken"},
    ]
    stored = add_contacts(instance.store, events, workspace.id, people, clock=clock, ids=ids)
    audiences.suppress(
        instance.store,
        events,
        workspace.id,
        reason="hard_bounce",
        clock=clock,
        source="test",
        email="bounced@example.org",
    )
    audiences.record_consent(
        instance.store,
        events,
        workspace.id,
        stored[3],
        pair="marketing:email",
        status="withdrawn",
        clock=clock,
        source="test",
        proof_kind="manual",
    )
    email_campaign(instance.store, workspace.id, clock=clock, ids=ids)
    send_id = _start(instance, workspace)

    _run(instance, smtp_for(port), send_id)

    assert [r.recipients for r in handler.received] == [["fine@example.org"]]
    with instance.store.reading() as conn:
        rows = {
            r.contact_id: r
            for r in conn.execute(
                select(outbox_messages).where(outbox_messages.c.send_id == send_id)
            )
        }
    assert rows[stored[1]].state == "skipped" and rows[stored[1]].detail.startswith("no_consent")
    assert rows[stored[2]].detail.startswith("suppressed")
    assert rows[stored[3]].detail.startswith("consent_withdrawn")
    assert rows[stored[4]].detail.startswith("no_address")
    assert rows[stored[5]].state == "failed" and "render failed" in rows[stored[5]].detail
    done = delivery.progress(instance.store, workspace.id, send_id)
    assert (done.counts["sent"], done.counts["skipped"], done.counts["failed"]) == (1, 4, 1)
    assert done.send.state.value == "done" and done.remaining == 0


def test_an_unsubscribe_mid_send_stops_the_later_messages(
    instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int]
) -> None:
    handler, port = sink
    events, clock, ids = instance.open_events(), instance.clock, instance.ids
    stored = add_contacts(instance.store, events, workspace.id, _people(20), clock=clock, ids=ids)
    email_campaign(instance.store, workspace.id, clock=clock, ids=ids)
    send_id = _start(instance, workspace)
    with instance.store.reading() as conn:
        order = list(
            conn.execute(
                select(outbox_messages.c.contact_id)
                .where(outbox_messages.c.send_id == send_id)
                .order_by(outbox_messages.c.id)
            ).scalars()
        )
    late = order[-1]
    withdrawn: list[str] = []

    def after_each_group(_: str) -> None:
        if not withdrawn and handler.received:
            audiences.record_consent(
                instance.store,
                events,
                workspace.id,
                late,
                pair="marketing:email",
                status="withdrawn",
                clock=clock,
                source="unsubscribe",
                proof_kind="email_link",
            )
            withdrawn.append(late)

    _run(instance, smtp_for(port, in_flight=4, batch_size=8), send_id, on_progress=after_each_group)

    late_email = audiences.get_contact(instance.store, workspace.id, late).email
    delivered = [r.recipients[0] for r in handler.received]
    assert withdrawn and late_email not in delivered
    assert len(delivered) == 19 and len(set(delivered)) == 19
    assert stored  # every other contact got exactly one email


def test_refusals_by_the_server_fail_or_retry(
    instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int]
) -> None:
    handler, port = sink
    events, clock, ids = instance.open_events(), instance.clock, instance.ids
    people = [
        {"email": "ok@example.org"},
        {"email": "reject-me@example.org"},
        {"email": "later@example.org"},
    ]
    stored = add_contacts(instance.store, events, workspace.id, people, clock=clock, ids=ids)
    email_campaign(instance.store, workspace.id, clock=clock, ids=ids)
    send_id = _start(instance, workspace)

    _run(instance, smtp_for(port), send_id)

    with instance.store.reading() as conn:
        rows = {
            r.contact_id: r
            for r in conn.execute(
                select(outbox_messages).where(outbox_messages.c.send_id == send_id)
            )
        }
    assert rows[stored[0]].state == "sent"
    assert rows[stored[1]].state == "failed" and rows[stored[1]].attempts == 1
    assert rows[stored[1]].detail.startswith("550")
    assert rows[stored[2]].state == "failed" and rows[stored[2]].attempts == 3  # 451 three times
    assert rows[stored[2]].in_doubt == 2  # retries are counted as possible duplicates
    assert [r.recipients for r in handler.received] == [["ok@example.org"]]


def test_sends_and_events_reach_the_event_store_once(
    instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int]
) -> None:
    _, port = sink
    events, clock, ids = instance.open_events(), instance.clock, instance.ids
    add_contacts(instance.store, events, workspace.id, _people(7), clock=clock, ids=ids)
    email_campaign(instance.store, workspace.id, clock=clock, ids=ids)
    send_id = _start(instance, workspace)
    _run(instance, smtp_for(port), send_id)

    con = events.connection.con

    def rows(query: str) -> list[tuple[Any, ...]]:
        return [tuple(r.values()) for r in con.sql(query).to_arrow_table().to_pylist()]

    sends = rows("SELECT status, count(*) FROM message_sends GROUP BY status")
    sent_events = rows("SELECT count(*) FROM events WHERE type = 'email_sent'")
    assert sends == [("sent", 7)] and sent_events == [(7,)]

    # Logging again (as after a crash between the append and the outbox update) adds nothing.
    with instance.store.transaction() as conn:
        conn.execute(outbox_messages.update().values(logged_at=None))
    _run(instance, smtp_for(port), send_id)
    assert rows("SELECT count(*) FROM message_sends") == [(7,)]
    assert rows("SELECT count(*) FROM events WHERE type = 'email_sent'") == [(7,)]


def test_the_frequency_cap_holds_across_campaigns(
    instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int]
) -> None:
    handler, port = sink
    events, clock, ids = instance.open_events(), instance.clock, instance.ids
    assert isinstance(clock, SimulatedClock)
    add_contacts(instance.store, events, workspace.id, _people(3), clock=clock, ids=ids)
    smtp = smtp_for(port, frequency_cap=1, frequency_cap_days=7)
    email_campaign(instance.store, workspace.id, clock=clock, ids=ids, key="spring")
    _run(instance, smtp, _start(instance, workspace))
    email_campaign(instance.store, workspace.id, clock=clock, ids=ids, key="summer")
    summer = delivery.start_send(
        instance.store, events, workspace.id, "summer", step=None, clock=clock, ids=ids, actor="t"
    ).send.id

    _run(instance, smtp, summer)
    assert len(handler.received) == 3
    capped = delivery.progress(instance.store, workspace.id, summer)
    assert capped.counts == {"skipped": 3}

    # A week later the cap allows one more: a third campaign reaches everyone again.
    clock.advance(timedelta(days=7, seconds=1))
    email_campaign(instance.store, workspace.id, clock=clock, ids=ids, key="autumn")
    autumn = delivery.start_send(
        instance.store, events, workspace.id, "autumn", step=None, clock=clock, ids=ids, actor="t"
    ).send.id
    _run(instance, smtp, autumn)
    assert len(handler.received) == 6


def test_the_sink_records_ids_in_a_file(tmp_path: Path) -> None:
    handler = RecordingHandler(record=tmp_path / "ids.txt")
    controller = start_sink(handler)
    try:
        with smtplib.SMTP("127.0.0.1", controller.port) as client:
            client.sendmail("a@x.org", ["b@y.org"], b"X-Clarion-Message: msg_1\r\n\r\nhi\r\n")
    finally:
        controller.stop()
    assert (tmp_path / "ids.txt").read_text() == "msg_1\tb@y.org\n"


def test_the_loop_takes_the_interpreter_back_quickly_while_a_send_runs(
    instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int]
) -> None:
    _, port = sink
    events, clock, ids = instance.open_events(), instance.clock, instance.ids
    add_contacts(instance.store, events, workspace.id, _people(3), clock=clock, ids=ids)
    email_campaign(instance.store, workspace.id, clock=clock, ids=ids)
    send_id = _start(instance, workspace)
    before = sys.getswitchinterval()
    seen: list[float] = []

    _run(
        instance,
        smtp_for(port, in_flight=1),
        send_id,
        on_progress=lambda _: seen.append(sys.getswitchinterval()),
    )

    assert seen and max(seen) <= 0.0005 < before  # replies wait 0.5 ms at most, not 5
    assert sys.getswitchinterval() == before  # the process gets its own setting back
