"""The outbox: one row per recipient and step, claims, pause/resume/cancel, crash recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clarion.audiences.segments.store import save_segment
from clarion.audiences.segments.stored import segment_input
from clarion.auth.contracts import Workspace
from clarion.core.errors import Conflict, InvalidInput
from clarion.delivery import outbox
from clarion.delivery import service as delivery
from clarion.delivery.contracts import SendState
from clarion.delivery.tables import outbox_messages
from clarion.instance import Instance

from delivery_world import add_contacts, email_campaign


def _setup(instance: Instance, workspace: Workspace, n: int = 12, **campaign: object) -> list[str]:
    events = instance.open_events()
    people = [{"email": f"p{i}@example.org", "country": "DE" if i % 2 else "FR"} for i in range(n)]
    stored = add_contacts(
        instance.store, events, workspace.id, people, clock=instance.clock, ids=instance.ids
    )
    email_campaign(instance.store, workspace.id, clock=instance.clock, ids=instance.ids, **campaign)  # type: ignore[arg-type]
    return stored


def _start(instance: Instance, workspace: Workspace, step: str | None = None) -> tuple[bool, str]:
    result = delivery.start_send(
        instance.store,
        instance.open_events(),
        workspace.id,
        "spring",
        step=step,
        clock=instance.clock,
        ids=instance.ids,
        actor="test",
    )
    return result.created, result.send.id


def _count(instance: Instance, **where: str) -> int:
    query = select(func.count()).select_from(outbox_messages)
    for name, value in where.items():
        query = query.where(outbox_messages.c[name] == value)
    with instance.store.reading() as conn:
        return int(conn.execute(query).scalar_one())


def test_starting_a_step_twice_never_makes_a_second_row(
    instance: Instance, workspace: Workspace
) -> None:
    stored = _setup(instance, workspace)
    created, send_id = _start(instance, workspace)
    again, same = _start(instance, workspace, step="launch")

    assert (created, again) == (True, False) and same == send_id
    assert _count(instance) == len(stored)
    with instance.store.reading() as conn:
        rows = list(conn.execute(select(outbox_messages)))
    # The message id is a function of (campaign, step, contact): the same start, the same ids.
    assert all(r.id == outbox.message_id(r.campaign_id, "launch", r.contact_id) for r in rows)


def test_an_inline_rule_selects_the_recipients(instance: Instance, workspace: Workspace) -> None:
    _setup(
        instance,
        workspace,
        steps=[
            {
                "key": "launch",
                "template": "t",
                "audience": {"field": "country", "op": "=", "value": "DE"},
            }
        ],
    )
    _start(instance, workspace)
    assert _count(instance) == 6


def test_a_stored_segment_is_snapshotted_by_key(instance: Instance, workspace: Workspace) -> None:
    _setup(instance, workspace, audience="segment:germans")
    save_segment(
        instance.store,
        workspace.id,
        segment_input(
            {
                "key": "germans",
                "name": "Germans",
                "rule": {"field": "country", "op": "=", "value": "DE"},
            }
        ),
        clock=instance.clock,
        ids=instance.ids,
    )
    _start(instance, workspace)
    assert _count(instance) == 6


def test_an_inline_rule_may_name_a_stored_segment(instance: Instance, workspace: Workspace) -> None:
    _setup(
        instance,
        workspace,
        steps=[{"key": "a", "template": "t", "audience": {"not": {"segment": "germans"}}}],
    )
    save_segment(
        instance.store,
        workspace.id,
        segment_input(
            {
                "key": "germans",
                "name": "Germans",
                "rule": {"field": "country", "op": "=", "value": "DE"},
            }
        ),
        clock=instance.clock,
        ids=instance.ids,
    )
    _start(instance, workspace)
    assert _count(instance) == 6


def test_an_unknown_stored_segment_is_refused_naming_the_field(
    instance: Instance, workspace: Workspace
) -> None:
    _setup(instance, workspace, audience="segment:ops")
    with pytest.raises(InvalidInput) as caught:
        _start(instance, workspace)
    assert caught.value.problems[0].path == "audience"
    assert "'ops'" in caught.value.message
    assert _count(instance) == 0


def test_a_step_must_be_named_when_there_are_several(
    instance: Instance, workspace: Workspace
) -> None:
    _setup(
        instance, workspace, steps=[{"key": "a", "template": "t"}, {"key": "b", "template": "t"}]
    )
    with pytest.raises(InvalidInput, match="several email steps"):
        _start(instance, workspace)
    with pytest.raises(InvalidInput, match="no email step 'c'"):
        _start(instance, workspace, step="c")


def test_claims_take_each_row_once_and_pause_stops_new_claims(
    instance: Instance, workspace: Workspace
) -> None:
    _setup(instance, workspace)
    _, send_id = _start(instance, workspace)
    now, lease = instance.clock.now(), timedelta(minutes=5)

    first = outbox.claim(instance.store, send_id, worker="w1", limit=5, lease=lease, now=now)
    second = outbox.claim(instance.store, send_id, worker="w2", limit=5, lease=lease, now=now)
    assert len(first) == len(second) == 5
    assert not {c.id for c in first} & {c.id for c in second}

    delivery.pause(instance.store, workspace.id, send_id, clock=instance.clock)
    assert outbox.claim(instance.store, send_id, worker="w1", limit=5, lease=lease, now=now) == []
    delivery.resume(instance.store, workspace.id, send_id, clock=instance.clock)
    assert (
        len(outbox.claim(instance.store, send_id, worker="w1", limit=5, lease=lease, now=now)) == 2
    )


def test_cancel_marks_queued_rows_and_is_final(instance: Instance, workspace: Workspace) -> None:
    _setup(instance, workspace)
    _, send_id = _start(instance, workspace)
    delivery.cancel(instance.store, workspace.id, send_id, clock=instance.clock)

    assert _count(instance, state="cancelled") == 12
    with pytest.raises(Conflict, match="cannot become running"):
        delivery.resume(instance.store, workspace.id, send_id, clock=instance.clock)
    assert (
        delivery.progress(instance.store, workspace.id, send_id).send.state is SendState.CANCELLED
    )


def test_recovery_requeues_claims_and_counts_rows_in_doubt(
    instance: Instance, workspace: Workspace
) -> None:
    _setup(instance, workspace)
    _, send_id = _start(instance, workspace)
    now, lease = instance.clock.now(), timedelta(minutes=5)
    claimed = outbox.claim(instance.store, send_id, worker="dead", limit=6, lease=lease, now=now)
    with instance.store.transaction() as conn:
        outbox.mark_sending(conn, [c.id for c in claimed[:4]], now=now)

    assert outbox.recover(instance.store, now=now) == (0, 0)  # leases still running
    assert outbox.recover(instance.store, now=now + lease) == (2, 4)

    progress = delivery.progress(instance.store, workspace.id, send_id)
    assert progress.counts == {"queued": 12} and progress.in_doubt == 4


def test_a_scheduled_step_is_not_claimed_before_its_time(
    instance: Instance, workspace: Workspace
) -> None:
    later = instance.clock.now() + timedelta(hours=2)
    _setup(
        instance,
        workspace,
        steps=[{"key": "launch", "template": "t", "scheduled_at": later.isoformat()}],
    )
    _, send_id = _start(instance, workspace)
    lease = timedelta(minutes=5)
    now = instance.clock.now()
    assert outbox.claim(instance.store, send_id, worker="w", limit=5, lease=lease, now=now) == []
    assert outbox.claim(instance.store, send_id, worker="w", limit=5, lease=lease, now=later)
