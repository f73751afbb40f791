"""The campaigns facade: apply, create, update, read, list and move campaigns through their life."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from clarion.audiences.campaign_files import apply_audience_sections
from clarion.campaigns.contracts import ApplyResult, Campaign, Transition
from clarion.campaigns.lifecycle import EDITABLE, CampaignState, check_transition
from clarion.campaigns.plan import CampaignPlan, check_plan
from clarion.campaigns.tables import (
    campaign_channel_budgets,
    campaign_hypotheses,
    campaign_kpi_targets,
    campaign_transitions,
    campaigns,
)
from clarion.core.clock import Clock
from clarion.core.errors import Conflict, NotFound
from clarion.core.ids import IdSource
from clarion.core.money import Money
from clarion.stores.app import AppStore


def _to_campaign(row: Any) -> Campaign:
    return Campaign(
        id=row.id,
        workspace_id=row.workspace_id,
        state=CampaignState(row.state),
        plan=CampaignPlan.model_validate(row.plan),
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _find(conn: Connection, workspace_id: str, ref: str) -> Any:
    row = conn.execute(
        select(campaigns).where(
            campaigns.c.workspace_id == workspace_id,
            or_(campaigns.c.id == ref, campaigns.c.key == ref),
        )
    ).first()
    if row is None:
        raise NotFound("campaign", ref)
    return row


def _plan_columns(plan: CampaignPlan) -> dict[str, Any]:
    return {
        "key": plan.key,
        "name": plan.name,
        "objective": plan.objective,
        "currency": plan.currency,
        "budget_total_minor": Money.of(plan.budget.total, plan.currency).minor,
        "start_date": plan.start_date,
        "end_date": plan.end_date,
        "audience": plan.audience,
        "brief": plan.brief.model_dump(mode="json"),
        "plan": plan.model_dump(mode="json"),
        "plan_hash": plan.canonical_hash(),
    }


def _write_parts(conn: Connection, campaign_id: str, plan: CampaignPlan) -> None:
    """Replace the plan's queryable parts (KPI targets, channel budgets, hypotheses)."""
    for table in (campaign_kpi_targets, campaign_channel_budgets, campaign_hypotheses):
        conn.execute(delete(table).where(table.c.campaign_id == campaign_id))
    if plan.kpis:
        conn.execute(
            insert(campaign_kpi_targets),
            [
                {
                    "campaign_id": campaign_id,
                    "position": i,
                    "metric": k.metric,
                    "comparator": k.comparator,
                    "target": k.target,
                    "unit": k.unit,
                }
                for i, k in enumerate(plan.kpis)
            ],
        )
    if plan.budget.split:
        conn.execute(
            insert(campaign_channel_budgets),
            [
                {
                    "campaign_id": campaign_id,
                    "channel": channel,
                    "amount_minor": Money.of(amount, plan.currency).minor,
                }
                for channel, amount in plan.budget.split.items()
            ],
        )
    if plan.hypotheses:
        conn.execute(
            insert(campaign_hypotheses),
            [
                {
                    "campaign_id": campaign_id,
                    "key": h.key,
                    "statement": h.statement,
                    "metric": h.metric,
                    "groups": h.groups,
                    "expected": h.expected,
                    "min_ratio": h.min_ratio,
                }
                for h in plan.hypotheses
            ],
        )


def _insert(
    conn: Connection,
    workspace_id: str,
    plan: CampaignPlan,
    *,
    clock: Clock,
    ids: IdSource,
    actor: str,
) -> str:
    now, campaign_id = clock.now(), ids.new("cmp")
    conn.execute(
        insert(campaigns).values(
            id=campaign_id,
            workspace_id=workspace_id,
            state=CampaignState.DRAFT.value,
            revision=1,
            created_at=now,
            updated_at=now,
            **_plan_columns(plan),
        )
    )
    _write_parts(conn, campaign_id, plan)
    conn.execute(
        insert(campaign_transitions).values(
            campaign_id=campaign_id,
            from_state=None,
            to_state=CampaignState.DRAFT.value,
            at=now,
            actor=actor,
            reason="created",
        )
    )
    return campaign_id


def _replace_plan(conn: Connection, row: Any, plan: CampaignPlan, clock: Clock) -> None:
    state = CampaignState(row.state)
    if state not in EDITABLE:
        raise Conflict(
            f"campaign {row.key!r} is {state.value}: its plan can no longer change",
            {"state": state.value},
        )
    conn.execute(
        update(campaigns)
        .where(campaigns.c.id == row.id)
        .values(revision=row.revision + 1, updated_at=clock.now(), **_plan_columns(plan))
    )
    _write_parts(conn, row.id, plan)


def apply_plan(
    store: AppStore,
    workspace_id: str,
    plan: CampaignPlan,
    *,
    clock: Clock,
    ids: IdSource,
    actor: str,
) -> ApplyResult:
    """Create the campaign named by ``plan.key``, update it, or do nothing if it is the same."""
    check_plan(plan)
    try:
        return _apply_once(store, workspace_id, plan, clock=clock, ids=ids, actor=actor)
    except IntegrityError:
        # Another writer created the same key between our read and our insert: apply again.
        return _apply_once(store, workspace_id, plan, clock=clock, ids=ids, actor=actor)


def _apply_once(
    store: AppStore,
    workspace_id: str,
    plan: CampaignPlan,
    *,
    clock: Clock,
    ids: IdSource,
    actor: str,
) -> ApplyResult:
    with store.transaction() as conn:
        # The file is the truth for its segments and personas: saved (or left unchanged) on
        # every apply, in the campaign's transaction.
        apply_audience_sections(
            conn, workspace_id, plan.segments, plan.personas, now=clock.now(), ids=ids
        )
        try:
            row = _find(conn, workspace_id, plan.key)
        except NotFound:
            campaign_id = _insert(conn, workspace_id, plan, clock=clock, ids=ids, actor=actor)
            action = "created"
        else:
            campaign_id = row.id
            if row.plan_hash == plan.canonical_hash():
                return ApplyResult("unchanged", _to_campaign(row))
            _replace_plan(conn, row, plan, clock)
            action = "updated"
        campaign = _to_campaign(_find(conn, workspace_id, campaign_id))
    return ApplyResult(action, campaign)  # type: ignore[arg-type]


def create_campaign(
    store: AppStore,
    workspace_id: str,
    plan: CampaignPlan,
    *,
    clock: Clock,
    ids: IdSource,
    actor: str,
) -> Campaign:
    """Create a new campaign; Conflict if its key is taken in this workspace."""
    check_plan(plan)
    try:
        with store.transaction() as conn:
            exists = conn.execute(
                select(campaigns.c.id).where(
                    campaigns.c.workspace_id == workspace_id, campaigns.c.key == plan.key
                )
            ).first()
            if exists is not None:
                raise Conflict(
                    f"a campaign with key {plan.key!r} exists already", {"key": plan.key}
                )
            apply_audience_sections(
                conn, workspace_id, plan.segments, plan.personas, now=clock.now(), ids=ids
            )
            campaign_id = _insert(conn, workspace_id, plan, clock=clock, ids=ids, actor=actor)
            return _to_campaign(_find(conn, workspace_id, campaign_id))
    except IntegrityError:
        raise Conflict(
            f"a campaign with key {plan.key!r} exists already", {"key": plan.key}
        ) from None


def update_campaign(
    store: AppStore, workspace_id: str, ref: str, plan: CampaignPlan, *, clock: Clock
) -> Campaign:
    """Replace a campaign's plan (its key cannot change)."""
    check_plan(plan)
    with store.transaction() as conn:
        row = _find(conn, workspace_id, ref)
        if plan.key != row.key:
            raise Conflict(
                f"the plan's key {plan.key!r} differs from the campaign's key {row.key!r}",
                {"key": plan.key, "campaign_key": row.key},
            )
        if row.plan_hash != plan.canonical_hash():
            _replace_plan(conn, row, plan, clock)
        return _to_campaign(_find(conn, workspace_id, row.id))


def get_campaign(store: AppStore, workspace_id: str, ref: str) -> Campaign:
    """The campaign with id or key ``ref``; NotFound otherwise."""
    with store.reading() as conn:
        return _to_campaign(_find(conn, workspace_id, ref))


def list_campaigns(
    store: AppStore, workspace_id: str, state: CampaignState | None = None
) -> list[Campaign]:
    """The workspace's campaigns, newest start first, optionally in one state."""
    query = select(campaigns).where(campaigns.c.workspace_id == workspace_id)
    if state is not None:
        query = query.where(campaigns.c.state == state.value)
    query = query.order_by(campaigns.c.start_date.desc(), campaigns.c.key)
    with store.reading() as conn:
        return [_to_campaign(row) for row in conn.execute(query)]


def transition(
    store: AppStore,
    workspace_id: str,
    ref: str,
    target: CampaignState,
    *,
    clock: Clock,
    actor: str,
    reason: str = "",
) -> Campaign:
    """Move a campaign to ``target`` if the lifecycle allows it, recording who, when and why."""
    with store.transaction() as conn:
        row = _find(conn, workspace_id, ref)
        current = CampaignState(row.state)
        check_transition(row.key, current, target)
        now = clock.now()
        moved = conn.execute(
            update(campaigns)
            .where(campaigns.c.id == row.id, campaigns.c.state == current.value)
            .values(state=target.value, updated_at=now)
        )
        if moved.rowcount != 1:
            raise Conflict(f"campaign {row.key!r} changed state meanwhile; try again")
        conn.execute(
            insert(campaign_transitions).values(
                campaign_id=row.id,
                from_state=current.value,
                to_state=target.value,
                at=now,
                actor=actor,
                reason=reason,
            )
        )
        return _to_campaign(_find(conn, workspace_id, row.id))


def history(store: AppStore, workspace_id: str, ref: str) -> list[Transition]:
    """The campaign's lifecycle history, oldest first."""
    with store.reading() as conn:
        row = _find(conn, workspace_id, ref)
        rows = conn.execute(
            select(campaign_transitions)
            .where(campaign_transitions.c.campaign_id == row.id)
            .order_by(campaign_transitions.c.id)
        )
        return [
            Transition(
                from_state=CampaignState(r.from_state) if r.from_state else None,
                to_state=CampaignState(r.to_state),
                at=r.at,
                actor=r.actor,
                reason=r.reason,
            )
            for r in rows
        ]
