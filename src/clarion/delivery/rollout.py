"""Test-then-send in the sender: once the test share is measured, the rest gets a variant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from clarion.core.clock import Clock
from clarion.core.errors import Conflict
from clarion.core.ids import IdSource
from clarion.delivery.contracts import OPEN_STATES, Rollout, Send, SendState
from clarion.delivery.tables import outbox_messages, send_rollouts
from clarion.delivery.variants import StepExperiment
from clarion.experiments import service as experiments
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

_out = outbox_messages


def _stored(row: Any, experiment_key: str) -> Rollout:
    return Rollout(
        send_id=row.send_id,
        experiment_key=experiment_key,
        action=row.action,
        variant=row.variant,
        reason=row.reason,
        released=row.released,
        outcome=row.outcome,
        decision_id=row.decision_id,
        test_sent_at=row.test_sent_at,
        decided_at=row.decided_at,
    )


def stored(store: AppStore, send: Send) -> Rollout | None:
    """The rollout already made for this send, if any."""
    arms = StepExperiment.from_options(send.options)
    with store.reading() as conn:
        row = conn.execute(select(send_rollouts).where(send_rollouts.c.send_id == send.id)).first()
    return None if row is None or arms is None else _stored(row, arms.key)


def _test_sent_at(store: AppStore, send: Send) -> datetime:
    """When the last message of the test share was answered; Conflict while some are open."""
    with store.reading() as conn:
        left = conn.execute(
            select(func.count())
            .select_from(_out)
            .where(_out.c.send_id == send.id, _out.c.state.in_(OPEN_STATES))
        ).scalar_one()
        last = conn.execute(
            select(func.max(_out.c.finished_at)).where(
                _out.c.send_id == send.id, _out.c.state.in_(("sent", "failed", "skipped"))
            )
        ).scalar_one()
    if left:
        raise Conflict(
            f"send {send.id}: the test share is still being sent ({left:,} messages left)",
            {"remaining": int(left)},
        )
    return last if last is not None else send.created_at


def finish(
    store: AppStore,
    events: EventStore,
    send: Send,
    *,
    clock: Clock,
    ids: IdSource,
    actor: str,
) -> Rollout:
    """Read the experiment's decision and, once the wait is over, queue the held rows with
    the winner, or with the fallback when there is none. Before that: a ``wait`` answer and
    nothing changes. Deciding again returns the rollout made the first time."""
    arms = StepExperiment.from_options(send.options)
    if arms is None or arms.test_share is None:
        raise Conflict(
            f"send {send.id} is not a test-then-send: its step names no experiment with "
            "test_then_send",
            {"send": send.id},
        )
    earlier = stored(store, send)
    if earlier is not None:
        return earlier
    if send.state is SendState.CANCELLED:
        raise Conflict(f"send {send.id} is cancelled", {"state": send.state.value})
    test_sent_at = _test_sent_at(store, send)
    answer = experiments.decide_test_then_send(
        store,
        events,
        send.workspace_id,
        arms.key,
        test_sent_at=test_sent_at,
        clock=clock,
        ids=ids,
        actor=actor,
    )
    if answer.action == "wait" or answer.variant is None:
        return Rollout(send.id, arms.key, "wait", None, answer.reason, 0, None, None, None, None)
    made = experiments.decisions(store, send.workspace_id, arms.key)
    decision_id = made[-1].id if made else None
    now = clock.now()
    try:
        with store.transaction() as conn:
            released = conn.execute(
                update(_out)
                .where(_out.c.send_id == send.id, _out.c.state == "held")
                .values(state="queued", variant=answer.variant)
            ).rowcount
            conn.execute(
                insert(send_rollouts).values(
                    send_id=send.id,
                    workspace_id=send.workspace_id,
                    experiment_id=arms.id,
                    decision_id=decision_id,
                    outcome=None if answer.decision is None else answer.decision.outcome,
                    action=answer.action,
                    variant=answer.variant,
                    reason=answer.reason,
                    released=int(released),
                    test_sent_at=test_sent_at,
                    decided_at=now,
                    actor=actor,
                )
            )
    except IntegrityError:  # another caller decided at the same moment: theirs stands
        found = stored(store, send)
        if found is None:
            raise
        return found
    result = stored(store, send)
    assert result is not None
    return result
