"""The experiments facade: create, start, expose, read results, decide, stop, roll out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from clarion.campaigns import service as campaigns
from clarion.core.clock import Clock
from clarion.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from clarion.core.ids import IdSource
from clarion.experiments import outcomes, test_then_send
from clarion.experiments.analysis import analyse
from clarion.experiments.assignment import assign, exposure_rows
from clarion.experiments.contracts import Experiment, ExperimentResults, StoredDecision
from clarion.experiments.decisions import decide
from clarion.experiments.design import ExperimentDesign, ExperimentPlan, plan_for
from clarion.experiments.lifecycle import ExperimentState, check_transition
from clarion.experiments.serialise import results_json
from clarion.experiments.tables import experiment_decisions, experiment_transitions, experiments
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

MAX_EXPOSURES_PER_CALL = 100_000


def _to_experiment(row: Any) -> Experiment:
    return Experiment(
        id=row.id,
        workspace_id=row.workspace_id,
        campaign_id=row.campaign_id,
        state=ExperimentState(row.state),
        design=ExperimentDesign.model_validate(row.design),
        plan=ExperimentPlan.model_validate(row.plan),
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        rolled_out_variant=row.rolled_out_variant,
        created_at=row.created_at,
    )


def _find(conn: Connection, workspace_id: str, ref: str) -> Any:
    row = conn.execute(
        select(experiments).where(
            experiments.c.workspace_id == workspace_id,
            or_(experiments.c.id == ref, experiments.c.key == ref),
        )
    ).first()
    if row is None:
        raise NotFound("experiment", ref)
    return row


def create_experiment(
    store: AppStore,
    workspace_id: str,
    design: ExperimentDesign,
    *,
    clock: Clock,
    ids: IdSource,
    actor: str,
) -> Experiment:
    """Store a draft experiment on one of the workspace's campaigns, with its plan."""
    campaign = campaigns.get_campaign(store, workspace_id, design.campaign)
    plan = plan_for(design)
    now, experiment_id = clock.now(), ids.new("exp")
    try:
        with store.transaction() as conn:
            conn.execute(
                insert(experiments).values(
                    id=experiment_id,
                    workspace_id=workspace_id,
                    campaign_id=campaign.id,
                    key=design.key,
                    name=design.name,
                    kind=design.kind.value,
                    state=ExperimentState.DRAFT.value,
                    design=design.model_dump(mode="json"),
                    plan=plan.model_dump(mode="json"),
                    created_at=now,
                    updated_at=now,
                )
            )
            _record_transition(
                conn,
                experiment_id,
                from_state=None,
                to_state=ExperimentState.DRAFT,
                at=now,
                actor=actor,
                reason="",
            )
    except IntegrityError:
        raise Conflict(
            f"an experiment with key {design.key!r} already exists", {"key": design.key}
        ) from None
    return get_experiment(store, workspace_id, experiment_id)


def get_experiment(store: AppStore, workspace_id: str, ref: str) -> Experiment:
    """The experiment with id or key ``ref``; NotFound otherwise."""
    with store.reading() as conn:
        return _to_experiment(_find(conn, workspace_id, ref))


def list_experiments(
    store: AppStore, workspace_id: str, campaign: str | None = None
) -> list[Experiment]:
    """The workspace's experiments, newest first, optionally of one campaign (id or key)."""
    query = select(experiments).where(experiments.c.workspace_id == workspace_id)
    if campaign is not None:
        campaign_id = campaigns.get_campaign(store, workspace_id, campaign).id
        query = query.where(experiments.c.campaign_id == campaign_id)
    with store.reading() as conn:
        rows = conn.execute(query.order_by(experiments.c.created_at.desc(), experiments.c.key))
        return [_to_experiment(r) for r in rows]


def _record_transition(
    conn: Connection,
    experiment_id: str,
    *,
    from_state: ExperimentState | None,
    to_state: ExperimentState,
    at: datetime,
    actor: str,
    reason: str,
) -> None:
    conn.execute(
        insert(experiment_transitions).values(
            experiment_id=experiment_id,
            from_state=from_state.value if from_state else None,
            to_state=to_state.value,
            at=at,
            actor=actor,
            reason=reason,
        )
    )


def _move(
    conn: Connection,
    row: Any,
    target: ExperimentState,
    *,
    now: datetime,
    actor: str,
    reason: str,
    **values: Any,
) -> None:
    current = ExperimentState(row.state)
    check_transition(row.key, current, target)
    changed = conn.execute(
        update(experiments)
        .where(experiments.c.id == row.id, experiments.c.state == current.value)
        .values(state=target.value, updated_at=now, **values)
    ).rowcount
    if changed != 1:  # another writer moved it between our read and our update
        raise Conflict(f"experiment {row.key!r} changed meanwhile; try again")
    _record_transition(
        conn, row.id, from_state=current, to_state=target, at=now, actor=actor, reason=reason
    )


def start(store: AppStore, workspace_id: str, ref: str, *, clock: Clock, actor: str) -> Experiment:
    """Start assigning and exposing contacts: draft → running."""
    now = clock.now()
    with store.transaction() as conn:
        row = _find(conn, workspace_id, ref)
        _move(conn, row, ExperimentState.RUNNING, now=now, actor=actor, reason="", started_at=now)
    return get_experiment(store, workspace_id, ref)


def expose(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    contact_ids: Iterable[str],
    *,
    clock: Clock,
    channel: str | None = None,
) -> dict[str, str]:
    """Assign each contact its arm and record the exposures; returns contact → variant.

    Only a running experiment exposes contacts. Assignment is a pure function of the
    experiment key and the contact id, so exposing a contact again gives the same arm.
    """
    experiment = get_experiment(store, workspace_id, ref)
    if experiment.state is not ExperimentState.RUNNING:
        raise Conflict(
            f"experiment {experiment.key!r} is {experiment.state.value}: only a running "
            "experiment exposes contacts",
            {"state": experiment.state.value},
        )
    wanted = list(dict.fromkeys(c for c in contact_ids))
    if len(wanted) > MAX_EXPOSURES_PER_CALL:
        raise InvalidInput(
            f"at most {MAX_EXPOSURES_PER_CALL:,} contacts per call",
            [FieldProblem("contact_ids", f"{len(wanted):,} given")],
        )
    bad = [i for i, c in enumerate(wanted) if not isinstance(c, str) or not 0 < len(c) <= 64]
    if bad:
        raise InvalidInput(
            "contact ids must be strings of 1 to 64 characters",
            [FieldProblem(f"contact_ids[{i}]", "not a contact id") for i in bad[:20]],
        )
    weights = experiment.design.weights()
    assigned = {c: assign(experiment.key, c, weights) for c in wanted}
    events.append(
        "events",
        exposure_rows(
            workspace_id=workspace_id,
            experiment_key=experiment.key,
            campaign_id=experiment.campaign_id,
            channel=channel,
            assignments=assigned.items(),
            at=clock.now(),
        ),
    )
    return assigned


def results(
    store: AppStore, events: EventStore, workspace_id: str, ref: str, *, clock: Clock
) -> ExperimentResults:
    """Read the experiment's outcomes from the event store now and analyse them."""
    experiment = get_experiment(store, workspace_id, ref)
    return _results(events, experiment, clock.now())


def _results(events: EventStore, experiment: Experiment, now: datetime) -> ExperimentResults:
    until = experiment.stopped_at or now
    per_metric = {
        name: outcomes.variant_outcomes(
            events,
            experiment.workspace_id,
            experiment_key=experiment.key,
            campaign_id=experiment.campaign_id,
            metric=name,
            until=until,
        )
        for name in experiment.design.metrics
    }
    days = outcomes.exposure_days(
        events, experiment.workspace_id, experiment_key=experiment.key, until=until
    )
    return analyse(experiment.design, experiment.plan, per_metric, days, now)


def _store_decision(
    conn: Connection, experiment: Experiment, found: ExperimentResults, *, ids: IdSource, actor: str
) -> StoredDecision:
    decision = decide(found)
    stored = StoredDecision(
        id=ids.new("dec"),
        experiment_id=experiment.id,
        at=found.at,
        outcome=decision.outcome,
        winner=decision.winner,
        explanation=decision.explanation,
        inputs=found.inputs,
        results={**results_json(found), "details": list(decision.details)},
        actor=actor,
    )
    conn.execute(
        insert(experiment_decisions).values(
            id=stored.id,
            experiment_id=stored.experiment_id,
            at=stored.at,
            outcome=stored.outcome,
            winner=stored.winner,
            explanation=stored.explanation,
            inputs=stored.inputs,
            results=stored.results,
            actor=actor,
        )
    )
    return stored


def record_decision(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    *,
    clock: Clock,
    ids: IdSource,
    actor: str,
) -> StoredDecision:
    """Decide from the results read now and keep the decision with the inputs behind it."""
    experiment = get_experiment(store, workspace_id, ref)
    found = _results(events, experiment, clock.now())
    with store.transaction() as conn:
        return _store_decision(conn, experiment, found, ids=ids, actor=actor)


def decisions(store: AppStore, workspace_id: str, ref: str) -> list[StoredDecision]:
    """The experiment's stored decisions, oldest first."""
    with store.reading() as conn:
        row = _find(conn, workspace_id, ref)
        rows = conn.execute(
            select(experiment_decisions)
            .where(experiment_decisions.c.experiment_id == row.id)
            .order_by(experiment_decisions.c.at, experiment_decisions.c.id)
        )
        return [
            StoredDecision(
                id=r.id,
                experiment_id=r.experiment_id,
                at=r.at,
                outcome=r.outcome,
                winner=r.winner,
                explanation=r.explanation,
                inputs=r.inputs,
                results=r.results,
                actor=r.actor,
            )
            for r in rows
        ]


def stop(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    *,
    clock: Clock,
    ids: IdSource,
    actor: str,
    reason: str = "",
) -> StoredDecision:
    """Stop exposing (running → stopped) and store the final decision, read at this instant."""
    experiment = get_experiment(store, workspace_id, ref)
    now = clock.now()
    check_transition(experiment.key, experiment.state, ExperimentState.STOPPED)
    found = _results(events, experiment, now)
    with store.transaction() as conn:
        row = _find(conn, workspace_id, ref)
        _move(
            conn, row, ExperimentState.STOPPED, now=now, actor=actor, reason=reason, stopped_at=now
        )
        return _store_decision(conn, experiment, found, ids=ids, actor=actor)


def rollout(
    store: AppStore,
    workspace_id: str,
    ref: str,
    *,
    clock: Clock,
    actor: str,
    variant: str | None = None,
    reason: str = "",
) -> Experiment:
    """Roll out the final decision's winner (stopped → rolled out).

    Without a winner, a variant must be named, and the reason is kept in the history: an
    inconclusive test may still be rolled out, but never silently.
    """
    experiment = get_experiment(store, workspace_id, ref)
    check_transition(experiment.key, experiment.state, ExperimentState.ROLLED_OUT)
    found = decisions(store, workspace_id, ref)
    winner = found[-1].winner if found else None
    keys = [v.key for v in experiment.design.variants]
    if variant is not None and variant not in keys:
        raise InvalidInput(
            f"experiment {experiment.key!r} has no variant {variant!r}",
            [FieldProblem("variant", f"must be one of {', '.join(keys)}")],
        )
    chosen = variant or winner
    if chosen is None:
        raise Conflict(
            f"experiment {experiment.key!r} has no winner: name the variant to roll out "
            "and say why",
            {"outcome": found[-1].outcome if found else None},
        )
    if chosen != winner and not reason:
        raise InvalidInput(
            "rolling out a variant the decision did not choose needs a reason",
            [FieldProblem("reason", "required when the variant is not the winner")],
        )
    with store.transaction() as conn:
        row = _find(conn, workspace_id, ref)
        _move(
            conn,
            row,
            ExperimentState.ROLLED_OUT,
            now=clock.now(),
            actor=actor,
            reason=reason or f"winner {chosen}",
            rolled_out_variant=chosen,
        )
    return get_experiment(store, workspace_id, ref)


def decide_test_then_send(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    *,
    test_sent_at: datetime,
    clock: Clock,
    ids: IdSource,
    actor: str,
) -> test_then_send.SendDecision:
    """For the sender: after the test share's wait, what the rest of the audience gets.

    The experiment must declare ``test_then_send``; once the wait is over the decision is
    stored like any other.
    """
    experiment = get_experiment(store, workspace_id, ref)
    config = experiment.design.test_then_send
    if config is None:
        raise Conflict(f"experiment {experiment.key!r} is not a test-then-send experiment")
    now = clock.now()
    found = _results(events, experiment, now)
    answer = test_then_send.decide(
        found,
        fallback=config.fallback,
        test_sent_at=test_sent_at,
        wait=timedelta(hours=config.wait_hours),
        now=now,
    )
    if answer.action != "wait":
        with store.transaction() as conn:
            _store_decision(conn, experiment, found, ids=ids, actor=actor)
    return answer
