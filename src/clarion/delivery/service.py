"""The delivery facade: start a campaign's email step, follow it, pause, resume or cancel it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from clarion.campaigns import service as campaigns
from clarion.campaigns.lifecycle import CampaignState
from clarion.campaigns.plan import EmailStep
from clarion.core.clock import Clock
from clarion.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from clarion.core.ids import IdSource
from clarion.delivery import outbox, rollout, step_experiment, variants
from clarion.delivery.audience import snapshot_contact_ids
from clarion.delivery.contracts import Rollout, Send, SendProgress, SendState, StartResult
from clarion.delivery.variants import StepExperiment
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

# content's email_renderer(workspace_id, template_key, version, *, subject=None)
TemplateCheck = Callable[..., object]
SENDABLE: Final = (CampaignState.SCHEDULED, CampaignState.RUNNING)

__all__ = [
    "cancel",
    "finish_test",
    "list_sends",
    "pause",
    "progress",
    "resume",
    "rollout_of",
    "start_send",
    "step_send",
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
    options = chosen.model_dump(mode="json")
    arms: StepExperiment | None = None
    if chosen.experiment is not None:
        earlier = outbox.find_send(store, campaign.id, chosen.key)
        if earlier is not None:
            # Started before: its arms were fixed then; nothing is resolved or started again.
            return StartResult(False, earlier)
        arms = step_experiment.resolve(
            store,
            workspace_id,
            campaign.id,
            chosen.experiment,
            path=f"email[{index}].experiment",
        )
        if check_template is not None:
            _check_variants(check_template, workspace_id, options, arms)
        options["arms"] = arms.as_options()
    audience = chosen.audience if chosen.audience is not None else campaign.plan.audience
    field = f"email[{index}].audience" if chosen.audience is not None else "audience"
    contact_ids = snapshot_contact_ids(
        store, events, workspace_id, audience, now=clock.now(), field=field
    )
    assigned, held = ({}, []) if arms is None else arms.split(contact_ids)
    if arms is not None:  # every check passed: a draft experiment starts with its send
        step_experiment.start(store, workspace_id, arms, clock=clock, actor=actor)
    return outbox.create_send(
        store,
        workspace_id,
        campaign.id,
        chosen.key,
        audience=audience,
        options=options,
        contact_ids=contact_ids,
        not_before=chosen.scheduled_at,
        clock=clock,
        ids=ids,
        actor=actor,
        variants=assigned,
        held=held,
    )


def _check_variants(
    check: TemplateCheck, workspace_id: str, options: dict[str, Any], arms: StepExperiment
) -> None:
    """Every arm's template (and subject line) renders, or nothing is created."""
    for variant in arms.overrides:
        chosen = variants.variant_options({**options, "arms": arms.as_options()}, variant)
        subject = chosen.get("subject")
        extra = {} if subject is None else {"subject": subject}
        try:
            check(workspace_id, chosen["template"], chosen.get("template_version"), **extra)
        except InvalidInput as error:
            problems = [
                FieldProblem(f"experiment {arms.key}: variant {variant}: {p.path}", p.problem)
                for p in error.problems
            ]
            raise InvalidInput(f"variant {variant!r}: {error.message}", problems) from None


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


def step_send(store: AppStore, workspace_id: str, campaign_ref: str, step: str | None) -> Send:
    """The send of a campaign's email step; NotFound when the step was never started."""
    campaign = campaigns.get_campaign(store, workspace_id, campaign_ref)
    _, chosen = _step(campaign.plan.email, step, campaign.key)
    found = outbox.find_send(store, campaign.id, chosen.key)
    if found is None:
        raise NotFound("send of step", f"{campaign.key}/{chosen.key}")
    return found


def finish_test(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    send_id: str,
    *,
    clock: Clock,
    ids: IdSource,
    actor: str,
) -> Rollout:
    """Test-then-send: after the experiment's wait, queue the rest of the audience with the
    winner (or the fallback when the decision is inconclusive); ``wait`` before that."""
    send = outbox.get_send(store, workspace_id, send_id)
    return rollout.finish(store, events, send, clock=clock, ids=ids, actor=actor)


def rollout_of(store: AppStore, workspace_id: str, send_id: str) -> Rollout | None:
    """What the rest of a test-then-send audience got, once decided."""
    return rollout.stored(store, outbox.get_send(store, workspace_id, send_id))
