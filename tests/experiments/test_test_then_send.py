"""Test-then-send: wait for the test share, then the winner or the configured fallback."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clarion.auth.contracts import Workspace
from clarion.core.errors import Conflict
from clarion.experiments import service
from clarion.instance import Instance

from experiment_world import expose_and_click, running

TTS = {"test_share": 0.2, "wait_hours": 4, "fallback": "a"}


def decide_now(instance: Instance, ws: Workspace, key: str, sent_at):
    return service.decide_test_then_send(
        instance.store,
        instance.open_events(),
        ws.id,
        key,
        test_sent_at=sent_at,
        clock=instance.clock,
        ids=instance.ids,
        actor="sender",
    )


def test_before_the_wait_is_over_the_sender_waits(instance: Instance, workspace: Workspace) -> None:
    key = running(instance, workspace.id, test_then_send=TTS)
    sent_at = instance.clock.now()
    expose_and_click(instance, workspace.id, key, {"a": 0.1, "b": 0.2})
    answer = decide_now(instance, workspace, key, sent_at)
    assert answer.action == "wait" and answer.variant is None
    assert service.decisions(instance.store, workspace.id, key) == []


def test_after_the_wait_a_clear_winner_goes_to_the_rest(
    instance: Instance, workspace: Workspace
) -> None:
    key = running(instance, workspace.id, test_then_send=TTS)
    sent_at = instance.clock.now()
    expose_and_click(instance, workspace.id, key, {"a": 0.1, "b": 0.2})
    instance.clock.advance(timedelta(hours=2))
    answer = decide_now(instance, workspace, key, sent_at)
    assert (answer.action, answer.variant) == ("send_winner", "b")
    (stored,) = service.decisions(instance.store, workspace.id, key)
    assert stored.winner == "b"


def test_an_inconclusive_test_sends_the_fallback(instance: Instance, workspace: Workspace) -> None:
    key = running(instance, workspace.id, test_then_send={**TTS, "fallback": "b"})
    sent_at = instance.clock.now()
    expose_and_click(instance, workspace.id, key, {"a": 0.1, "b": 0.1}, contacts=300)
    instance.clock.advance(timedelta(hours=2))
    answer = decide_now(instance, workspace, key, sent_at)
    assert (answer.action, answer.variant) == ("send_fallback", "b")
    assert answer.reason.startswith("Inconclusive:")
    assert answer.reason.endswith("Sending the fallback B to the rest.")


def test_an_experiment_without_test_then_send_is_refused(
    instance: Instance, workspace: Workspace
) -> None:
    key = running(instance, workspace.id)
    with pytest.raises(Conflict, match="not a test-then-send"):
        decide_now(instance, workspace, key, instance.clock.now())
