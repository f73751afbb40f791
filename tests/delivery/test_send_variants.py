"""An email step that names an experiment: each contact gets its arm, test-then-send decides."""

from __future__ import annotations

import asyncio
import email
from datetime import timedelta
from email.header import decode_header, make_header
from typing import Any

import pytest
from sqlalchemy import select

from clarion.auth.contracts import Workspace
from clarion.campaigns import service as campaigns
from clarion.content.service import ContentService
from clarion.core.errors import Conflict, InvalidInput
from clarion.delivery import service as delivery
from clarion.delivery.runner import content_renderers
from clarion.delivery.sink import RecordingHandler
from clarion.delivery.smtp import SmtpPool
from clarion.delivery.tables import outbox_messages
from clarion.delivery.worker import SendWorker, WorkerConfig
from clarion.experiments import service as experiments
from clarion.experiments.assignment import assign, in_test_share
from clarion.experiments.design import read_design
from clarion.instance import Instance
from clarion.tracking import service as tracking
from clarion.tracking.enrichment import Signals
from clarion.tracking.tables import tracked_messages

from delivery_world import add_contacts, email_campaign, smtp_for

PUBLIC = "https://go.example.com"
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
SUBJECTS = {"a": "Spring is here", "b": "Hi {{ first_name }}, your spring plan"}
TTS = {"test_share": 0.5, "wait_hours": 4, "fallback": "a"}


def _key(instance: Instance) -> bytes:
    return instance.settings.secrets.signing_key.get_secret_value().encode()


def _world(instance: Instance, ws: Workspace, people: int, **design: Any) -> list[str]:
    """Contacts, a published template, a campaign whose step tests subject lines (a draft)."""
    events, clock, ids = instance.open_events(), instance.clock, instance.ids
    contact_ids = add_contacts(
        instance.store,
        events,
        ws.id,
        [{"email": f"p{i:03d}@example.org", "first_name": f"P{i}"} for i in range(people)],
        clock=clock,
        ids=ids,
    )
    content = ContentService(instance.store, clock=clock, ids=ids)
    content.add(
        ws.id,
        "spring-hello",
        "html",
        actor="test",
        subject="The default subject",
        body='<html><body><p>Hi {{ first_name }}</p><a href="https://shop.example.com/">Shop</a>'
        "</body></html>",
    )
    content.publish(ws.id, "spring-hello", actor="test")
    step = {"key": "launch", "template": "spring-hello", "experiment": "subject-test"}
    email_campaign(instance.store, ws.id, clock=clock, ids=ids, steps=[step])
    spec: dict[str, Any] = {
        "key": "subject-test",
        "name": "Subject lines",
        "campaign": "spring",
        "kind": "subject_line",
        "variants": [{"key": k, "content": {"subject": v}} for k, v in SUBJECTS.items()],
        "primary_metric": "click_rate",
        **design,
    }
    experiments.create_experiment(
        instance.store, ws.id, read_design(spec), clock=clock, ids=ids, actor="test"
    )
    return contact_ids


def _start(instance: Instance, ws: Workspace) -> str:
    content = ContentService(instance.store, clock=instance.clock, ids=instance.ids)
    started = delivery.start_send(
        instance.store,
        instance.open_events(),
        ws.id,
        "spring",
        step=None,
        clock=instance.clock,
        ids=instance.ids,
        actor="test",
        check_template=content.email_renderer,
    )
    return started.send.id


def _run(instance: Instance, port: int, send_id: str) -> int:
    content = ContentService(instance.store, clock=instance.clock, ids=instance.ids)

    async def go() -> int:
        smtp = smtp_for(port)
        pool = SmtpPool(smtp)
        worker = SendWorker(
            instance.store,
            instance.open_events(),
            pool,
            content_renderers(content),
            clock=instance.clock,
            config=WorkerConfig(smtp, _key(instance), PUBLIC, "test-worker"),
        )
        try:
            return await worker.run_send(send_id)
        finally:
            await pool.close()

    return asyncio.run(go())


def _received(handler: RecordingHandler) -> dict[str, email.message.Message]:
    """Message id → parsed message, for every message the sink accepted."""
    found = {}
    for received in handler.received:
        message = email.message_from_bytes(received.data)
        found[str(message["X-Clarion-Message"])] = message
    return found


def _subject(message: email.message.Message) -> str:
    return str(make_header(decode_header(str(message["Subject"]))))


def _rows(instance: Instance, send_id: str) -> dict[str, Any]:
    with instance.store.reading() as conn:
        return {
            r.contact_id: r
            for r in conn.execute(
                select(outbox_messages).where(outbox_messages.c.send_id == send_id)
            )
        }


def _exposures(instance: Instance) -> dict[str, str]:
    table = (
        instance.open_events()
        .connection.con.sql(
            "SELECT contact_id, variant FROM events WHERE type = 'experiment_exposure'"
        )
        .to_arrow_table()
    )
    return {r["contact_id"]: r["variant"] for r in table.to_pylist()}


def _click(instance: Instance, messages: list[email.message.Message]) -> None:
    """Each message's first link is clicked from a browser, through the signed redirect."""
    key, rows = _key(instance), []
    for message in messages:
        html = next(
            part.get_payload(decode=True).decode()  # type: ignore[union-attr]
            for part in message.walk()
            if part.get_content_type() == "text/html"
        )
        token = html.split(f'href="{PUBLIC}/t/c/')[1].split('"')[0]
        resolved = tracking.resolve_click(instance.store, token, key=key)
        assert resolved is not None
        tracked, index, destination = resolved
        rows.append(
            tracking.click_row(
                tracked,
                index,
                destination,
                Signals(user_agent=BROWSER),
                now=instance.clock.now(),
                ids=instance.ids,
            )
        )
    instance.open_events().append("events", rows)


def test_each_contact_gets_its_arm_with_its_subject_line_and_is_exposed_once(
    instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int]
) -> None:
    handler, port = sink
    contact_ids = _world(instance, workspace, 40)
    send_id = _start(instance, workspace)

    handed = _run(instance, port, send_id)

    assert handed == 40
    weights = {"a": 1.0, "b": 1.0}
    expected = {c: assign("subject-test", c, weights) for c in contact_ids}
    assert set(expected.values()) == {"a", "b"}
    rows = _rows(instance, send_id)
    assert {c: r.variant for c, r in rows.items()} == expected
    received = _received(handler)
    for contact_id, row in rows.items():
        message = received[row.id]
        name = f"P{contact_ids.index(contact_id)}"
        want = "Spring is here" if row.variant == "a" else f"Hi {name}, your spring plan"
        assert _subject(message) == want
    with instance.store.reading() as conn:
        tracked = {
            r.contact_id: r.variant
            for r in conn.execute(select(tracked_messages.c.contact_id, tracked_messages.c.variant))
        }
    assert tracked == expected
    sends = (
        instance.open_events()
        .connection.con.sql("SELECT contact_id, variant FROM message_sends")
        .to_arrow_table()
        .to_pylist()
    )
    assert {r["contact_id"]: r["variant"] for r in sends} == expected
    assert _exposures(instance) == expected
    started = experiments.get_experiment(instance.store, workspace.id, "subject-test")
    assert started.state.value == "running"  # the send started the draft


def test_test_then_send_sends_the_winner_to_the_rest_after_the_wait(
    instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int]
) -> None:
    handler, port = sink
    contact_ids = _world(instance, workspace, 160, test_then_send=TTS)
    send_id = _start(instance, workspace)
    test = {c for c in contact_ids if in_test_share("subject-test", c, 0.5)}
    assert 50 < len(test) < 110

    assert _run(instance, port, send_id) == len(test)
    shown = delivery.progress(instance.store, workspace.id, send_id)
    assert shown.send.state.value == "running" and shown.as_dict()["held"] == len(
        contact_ids
    ) - len(test)
    first = _received(handler)
    assert {r.contact_id for r in _rows(instance, send_id).values() if r.id in first} == test

    # Before the wait is over nothing changes.
    early = delivery.finish_test(
        instance.store,
        instance.open_events(),
        workspace.id,
        send_id,
        clock=instance.clock,
        ids=instance.ids,
        actor="test",
    )
    assert early.action == "wait" and early.released == 0

    # An hour later four in five who got B click, one in ten who got A.
    instance.clock.advance(timedelta(hours=1))
    got_b = sorted((k, m) for k, m in first.items() if _subject(m).startswith("Hi "))
    got_a = sorted((k, m) for k, m in first.items() if not _subject(m).startswith("Hi "))
    _click(instance, [m for i, (_, m) in enumerate(got_b) if i % 5])
    _click(instance, [m for i, (_, m) in enumerate(got_a) if i % 10 == 0])
    instance.clock.advance(timedelta(hours=4))
    rollout = delivery.finish_test(
        instance.store,
        instance.open_events(),
        workspace.id,
        send_id,
        clock=instance.clock,
        ids=instance.ids,
        actor="test",
    )
    assert (rollout.action, rollout.variant, rollout.outcome) == ("send_winner", "b", "winner"), (
        rollout.reason
    )
    assert rollout.released == len(contact_ids) - len(test)
    (decision,) = experiments.decisions(instance.store, workspace.id, "subject-test")
    assert rollout.decision_id == decision.id and decision.winner == "b"

    handler.received.clear()
    assert _run(instance, port, send_id) == rollout.released
    rest = _received(handler)
    rows = _rows(instance, send_id)
    assert {r.contact_id for r in rows.values() if r.id in rest} == set(contact_ids) - test
    assert all(_subject(m).startswith("Hi ") for m in rest.values())
    assert all(rows[c].variant == "b" for c in set(contact_ids) - test)
    # Only the test share is exposed: the rest got the winner, they were not randomised.
    assert set(_exposures(instance)) == test
    done = delivery.progress(instance.store, workspace.id, send_id)
    assert done.send.state.value == "done" and done.counts.get("sent") == len(contact_ids)

    again = delivery.finish_test(
        instance.store,
        instance.open_events(),
        workspace.id,
        send_id,
        clock=instance.clock,
        ids=instance.ids,
        actor="test",
    )
    assert again == rollout
    assert len(experiments.decisions(instance.store, workspace.id, "subject-test")) == 1


def test_an_inconclusive_test_sends_the_fallback_to_the_rest(
    instance: Instance, workspace: Workspace, sink: tuple[RecordingHandler, int]
) -> None:
    handler, port = sink
    contact_ids = _world(instance, workspace, 60, test_then_send={**TTS, "fallback": "a"})
    send_id = _start(instance, workspace)
    _run(instance, port, send_id)
    instance.clock.advance(timedelta(hours=5))  # nobody clicked anything

    rollout = delivery.finish_test(
        instance.store,
        instance.open_events(),
        workspace.id,
        send_id,
        clock=instance.clock,
        ids=instance.ids,
        actor="test",
    )

    assert (rollout.action, rollout.variant, rollout.outcome) == (
        "send_fallback",
        "a",
        "inconclusive",
    )
    assert "fallback" in rollout.reason
    handler.received.clear()
    _run(instance, port, send_id)
    assert {_subject(m) for m in _received(handler).values()} == {"Spring is here"}
    assert delivery.progress(instance.store, workspace.id, send_id).counts.get("sent") == len(
        contact_ids
    )


def test_finishing_while_the_test_share_is_still_sending_is_refused(
    instance: Instance, workspace: Workspace
) -> None:
    _world(instance, workspace, 20, test_then_send=TTS)
    send_id = _start(instance, workspace)
    instance.clock.advance(timedelta(hours=5))
    with pytest.raises(Conflict, match="still being sent"):
        delivery.finish_test(
            instance.store,
            instance.open_events(),
            workspace.id,
            send_id,
            clock=instance.clock,
            ids=instance.ids,
            actor="test",
        )


def test_cancelling_a_test_then_send_cancels_the_held_rows(
    instance: Instance, workspace: Workspace
) -> None:
    _world(instance, workspace, 20, test_then_send=TTS)
    send_id = _start(instance, workspace)
    delivery.cancel(instance.store, workspace.id, send_id, clock=instance.clock)
    shown = delivery.progress(instance.store, workspace.id, send_id)
    assert shown.counts == {"cancelled": 20}


def test_a_plain_send_cannot_be_finished(instance: Instance, workspace: Workspace) -> None:
    _world(instance, workspace, 5)
    send_id = _start(instance, workspace)
    with pytest.raises(Conflict, match="not a test-then-send"):
        delivery.finish_test(
            instance.store,
            instance.open_events(),
            workspace.id,
            send_id,
            clock=instance.clock,
            ids=instance.ids,
            actor="test",
        )


def _restep(instance: Instance, ws: Workspace, experiment: str) -> None:
    plan = campaigns.get_campaign(instance.store, ws.id, "spring").plan
    step = {"key": "launch", "template": "spring-hello", "experiment": experiment}
    changed = plan.model_copy(update={"email": [type(plan.email[0]).model_validate(step)]})
    campaigns.apply_plan(
        instance.store, ws.id, changed, clock=instance.clock, ids=instance.ids, actor="test"
    )


@pytest.mark.parametrize(
    ("variants", "kind", "path", "problem"),
    [
        (None, "send_time", "email[0].experiment", "send_time test"),
        (
            [{"key": "a", "content": {"cta": "Buy"}}, {"key": "b"}],
            "content",
            "experiment subject-test: variants[0].content.cta",
            "reads only subject",
        ),
        (
            [{"key": "a", "content": {"template_version": "two"}}, {"key": "b"}],
            "content",
            "experiment subject-test: variants[0].content.template_version",
            "not a version number",
        ),
        (
            [{"key": "a", "content": {"subject": "{{ first_name.__class__ }}"}}, {"key": "b"}],
            "subject_line",
            "experiment subject-test: variant a: subject",
            "",
        ),
        (
            [{"key": "a", "content": {"template": "missing"}}, {"key": "b"}],
            "content",
            None,
            "missing",
        ),
    ],
)
def test_a_step_experiment_that_cannot_be_sent_is_refused_before_any_row_exists(
    instance: Instance,
    workspace: Workspace,
    variants: list[dict[str, Any]] | None,
    kind: str,
    path: str | None,
    problem: str,
) -> None:
    design: dict[str, Any] = {"kind": kind}
    if variants is not None:
        design["variants"] = variants
    _world(instance, workspace, 3, **design)
    with pytest.raises((InvalidInput, Exception)) as raised:
        _start(instance, workspace)
    error = raised.value
    assert problem in str(error) or any(
        problem in p.problem for p in getattr(error, "problems", [])
    )
    if path is not None:
        assert isinstance(error, InvalidInput)
        assert any(p.path == path for p in error.problems), error.problems
    assert delivery.list_sends(instance.store, workspace.id) == []
    untouched = experiments.get_experiment(instance.store, workspace.id, "subject-test")
    assert untouched.state.value == "draft"  # a refused send starts nothing


def test_an_unknown_or_finished_experiment_is_refused(
    instance: Instance, workspace: Workspace
) -> None:
    _world(instance, workspace, 3)
    _restep(instance, workspace, "nope")
    with pytest.raises(InvalidInput) as raised:
        _start(instance, workspace)
    assert raised.value.problems[0].path == "email[0].experiment"
    _restep(instance, workspace, "subject-test")
    experiments.start(instance.store, workspace.id, "subject-test", clock=instance.clock, actor="t")
    experiments.stop(
        instance.store,
        instance.open_events(),
        workspace.id,
        "subject-test",
        clock=instance.clock,
        ids=instance.ids,
        actor="t",
    )
    with pytest.raises(Conflict, match="stopped"):
        _start(instance, workspace)
    assert delivery.list_sends(instance.store, workspace.id) == []
