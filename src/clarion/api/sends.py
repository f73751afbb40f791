"""Routes for sends: start a campaign's email step, follow its progress, pause, resume, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from clarion.api.deps import InstanceDep, SecretKeyDep
from clarion.content.service import ContentService
from clarion.delivery import service as delivery
from clarion.delivery.contracts import Rollout, SendProgress

router = APIRouter(tags=["sends"])


class StartIn(BaseModel):
    """Which email step to send; may be left out when the campaign has exactly one."""

    model_config = ConfigDict(extra="forbid")

    step: str | None = Field(default=None, max_length=64)


class SendOut(BaseModel):
    """A send's progress: counts by outcome, what remains, the rows in doubt, the rate."""

    id: str
    campaign_id: str
    step: str
    state: str
    recipients: int
    sent: int
    failed: int
    skipped: int
    cancelled: int
    remaining: int
    held: int = Field(default=0, description="rows waiting for a test-then-send decision")
    retrying: int = 0  # of the remaining rows, those waiting out a retry back-off
    in_doubt: int
    rate_per_second: float | None
    not_before: str | None
    created_at: str
    finished_at: str | None

    @classmethod
    def of(cls, progress: SendProgress) -> SendOut:
        return cls(**progress.as_dict())


def _wake(request: Request) -> None:
    runner: Any = getattr(request.app.state, "send_runner", None)
    if runner is not None:
        runner.wake()


@router.post("/v1/campaigns/{ref}/sends", response_model=SendOut)
def start_send(
    instance: InstanceDep,
    key: SecretKeyDep,
    ref: str,
    *,
    request: Request,
    response: Response,
    body: StartIn | None = None,
) -> SendOut:
    """Snapshot the step's audience and start sending (201); the same step again: its send."""
    content = ContentService(instance.store, clock=instance.clock, ids=instance.ids)
    result = delivery.start_send(
        instance.store,
        instance.open_events(),
        key.workspace_id,
        ref,
        step=body.step if body else None,
        clock=instance.clock,
        ids=instance.ids,
        actor=f"api-key:{key.id}",
        check_template=content.email_renderer,
    )
    if result.created:
        response.status_code = status.HTTP_201_CREATED
    _wake(request)
    return SendOut.of(delivery.progress(instance.store, key.workspace_id, result.send.id))


@router.get("/v1/sends", response_model=list[SendOut])
def list_sends(instance: InstanceDep, key: SecretKeyDep) -> list[SendOut]:
    """The workspace's sends, oldest first, with their progress."""
    return [
        SendOut.of(delivery.progress(instance.store, key.workspace_id, s.id))
        for s in delivery.list_sends(instance.store, key.workspace_id)
    ]


@router.get("/v1/sends/{send_id}", response_model=SendOut)
def get_send(instance: InstanceDep, key: SecretKeyDep, send_id: str) -> SendOut:
    """Progress: sent / failed / skipped / remaining, rows in doubt, rate."""
    return SendOut.of(delivery.progress(instance.store, key.workspace_id, send_id))


@router.post("/v1/sends/{send_id}/pause", response_model=SendOut)
def pause_send(instance: InstanceDep, key: SecretKeyDep, send_id: str) -> SendOut:
    """Claim nothing new; the group on the wire finishes."""
    delivery.pause(instance.store, key.workspace_id, send_id, clock=instance.clock)
    return SendOut.of(delivery.progress(instance.store, key.workspace_id, send_id))


@router.post("/v1/sends/{send_id}/resume", response_model=SendOut)
def resume_send(
    instance: InstanceDep, key: SecretKeyDep, send_id: str, request: Request
) -> SendOut:
    """Send again from where it stopped."""
    delivery.resume(instance.store, key.workspace_id, send_id, clock=instance.clock)
    _wake(request)
    return SendOut.of(delivery.progress(instance.store, key.workspace_id, send_id))


@router.post("/v1/sends/{send_id}/cancel", response_model=SendOut)
def cancel_send(instance: InstanceDep, key: SecretKeyDep, send_id: str) -> SendOut:
    """Stop for good: queued rows are cancelled now."""
    delivery.cancel(instance.store, key.workspace_id, send_id, clock=instance.clock)
    return SendOut.of(delivery.progress(instance.store, key.workspace_id, send_id))


class RolloutOut(BaseModel):
    """Test-then-send: what the rest of the audience gets (winner or fallback), or wait."""

    send_id: str
    experiment: str
    action: str = Field(description="wait, send_winner or send_fallback")
    variant: str | None
    reason: str
    released: int = Field(description="held rows now queued with the variant")
    outcome: str | None = Field(description="the experiment decision: winner, inconclusive, …")
    decision_id: str | None
    test_sent_at: str | None
    decided_at: str | None

    @classmethod
    def of(cls, found: Rollout) -> RolloutOut:
        return cls(**found.as_dict())


@router.post("/v1/sends/{send_id}/finish", response_model=RolloutOut)
def finish_send(
    instance: InstanceDep, key: SecretKeyDep, send_id: str, request: Request
) -> RolloutOut:
    """Test-then-send: after the wait, send the winner (or the fallback) to the rest; the
    answer is ``wait`` before that, and the first rollout again once it is made."""
    found = delivery.finish_test(
        instance.store,
        instance.open_events(),
        key.workspace_id,
        send_id,
        clock=instance.clock,
        ids=instance.ids,
        actor=f"api-key:{key.id}",
    )
    if found.released:
        _wake(request)
    return RolloutOut.of(found)
