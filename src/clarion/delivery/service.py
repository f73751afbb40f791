"""The delivery facade: start a campaign's email step, follow it, pause, resume or cancel it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from clarion.campaigns import service as campaigns
from clarion.campaigns.lifecycle import CampaignState
from clarion.campaigns.plan import EmailStep
from clarion.core.clock import Clock
from clarion.core.errors import Conflict, FieldProblem, InvalidInput
from clarion.core.ids import IdSource
from clarion.delivery import outbox
from clarion.delivery.audience import snapshot_contact_ids
from clarion.delivery.contracts import Send, SendProgress, SendState, StartResult
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

TemplateCheck = Callable[[str, str, int | None], object]
SENDABLE: Final = (CampaignState.SCHEDULED, CampaignState.RUNNING)

__all__ = [
    "cancel",
    "list_sends",
    "pause",
    "progress",
    "resume",
    "start_send",
]


def _step(steps: list[EmailStep], key: str | None, campaign_key: str) -> tuple[int, EmailStep]:
    if not steps:
        problem = f"campaign {campaign_key!r} has no email steps"
        raise InvalidInput(problem, [FieldProblem("email", problem)])
    if key is None:
        if len(steps) > 1:
            keys = ", ".join(s.key for s in steps)
            problem = f"campaign {campaign_key!r} has several email steps: name one ({keys})"
            raise InvalidInput(problem, [FieldProblem("step", problem)])
        return 0, steps[0]
    for index, step in enumerate(steps):
        if step.key == key:
            return index, step
    keys = ", ".join(s.key for s in steps)
    problem = f"campaign {campaign_key!r} has no email step {key!r} (its steps: {keys})"
    raise InvalidInput(problem, [FieldProblem("step", problem)])


def start_send(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    campaign_ref: str,
    *,
    step: str | None,
    clock: Clock,
    ids: IdSource,
    actor: str,
    check_template: TemplateCheck | None = None,
) -> StartResult:
    """Snapshot the step's audience into outbox rows and start sending; starting the same
    step again returns its send unchanged (no contact ever gets a second row).

    ``check_template(workspace_id, template_key, version)`` raises when the step's template
    cannot be rendered (content's ``email_renderer``): nothing is created then.
    """
    campaign = campaigns.get_campaign(store, workspace_id, campaign_ref)
    index, chosen = _step(campaign.plan.email, step, campaign.key)
    if check_template is not None:
        check_template(workspace_id, chosen.template, chosen.template_version)
    if campaign.state not in SENDABLE:
        raise Conflict(
            f"campaign {campaign.key!r} is {campaign.state.value}: "
            "only a scheduled or running campaign sends",
            {"state": campaign.state.value},
        )
    audience = chosen.audience if chosen.audience is not None else campaign.plan.audience
    field = f"email[{index}].audience" if chosen.audience is not None else "audience"
    contact_ids = snapshot_contact_ids(
        store, events, workspace_id, audience, now=clock.now(), field=field
    )
    return outbox.create_send(
        store,
        workspace_id,
        campaign.id,
        chosen.key,
        audience=audience,
        options=chosen.model_dump(mode="json"),
        contact_ids=contact_ids,
        not_before=chosen.scheduled_at,
        clock=clock,
        ids=ids,
        actor=actor,
    )


def progress(store: AppStore, workspace_id: str, send_id: str) -> SendProgress:
    """Where a send stands: sent, failed, skipped, remaining, in doubt, rate."""
    return outbox.progress(store, workspace_id, send_id)


def list_sends(store: AppStore, workspace_id: str, state: SendState | None = None) -> list[Send]:
    """The workspace's sends, oldest first."""
    return outbox.list_sends(store, workspace_id, state)


def pause(store: AppStore, workspace_id: str, send_id: str, *, clock: Clock) -> Send:
    """Stop claiming new rows; a batch already claimed finishes."""
    return outbox.move(store, workspace_id, send_id, SendState.PAUSED, clock=clock)


def resume(store: AppStore, workspace_id: str, send_id: str, *, clock: Clock) -> Send:
    """Claim rows again."""
    return outbox.move(store, workspace_id, send_id, SendState.RUNNING, clock=clock)


def cancel(store: AppStore, workspace_id: str, send_id: str, *, clock: Clock) -> Send:
    """Stop for good: queued rows are cancelled now, a claimed group is cancelled unsent."""
    return outbox.move(store, workspace_id, send_id, SendState.CANCELLED, clock=clock)
