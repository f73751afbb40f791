"""The budget facade: units and policy, current split and history, recommend, apply, revert."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
from sqlalchemy import Connection, delete, insert, select, update

from clarion.analytics import service as analytics
from clarion.campaigns import service as campaigns
from clarion.core.clock import Clock
from clarion.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from clarion.core.ids import IdSource
from clarion.core.money import CURRENCY_DIGITS
from clarion.delivery.ad_platform import AdPlatform, UnitKey
from clarion.optimize.alerts import cpa_drift_alerts, pacing_alert
from clarion.optimize.allocator import UnitHistory, allocate
from clarion.optimize.contracts import (
    BudgetChange,
    BudgetPolicy,
    BudgetState,
    BudgetUnit,
    DailyResults,
    Recommendation,
    UnitSpec,
    unit_key_text,
)
from clarion.optimize.tables import budget_changes, budget_policies, budget_units
from clarion.stats.response_curves import ResponsePrior
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore
from clarion.tracking.spend.current import current_spend

ALLOCATOR = "allocator"
MAX_UNITS = 500


def _digits(currency: str) -> int:
    return CURRENCY_DIGITS.get(currency, 2)


def _to_minor(amount: Decimal, currency: str) -> int:
    return int((amount * 10 ** _digits(currency)).to_integral_value(ROUND_HALF_EVEN))


def _from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-_digits(currency))


def _to_change(row: Any, currency: str) -> BudgetChange:
    return BudgetChange(
        id=row.id,
        at=row.at,
        actor=row.actor,
        status=row.status,
        reason=row.reason,
        split={k: _from_minor(int(v), currency) for k, v in row.split.items()},
        expected=dict(row.expected),
        reverts=row.reverts,
        applied_at=row.applied_at,
        applied_by=row.applied_by,
    )


def set_units(
    store: AppStore,
    workspace_id: str,
    campaign_ref: str,
    units: Sequence[UnitSpec],
    *,
    clock: Clock,
    ids: IdSource,
) -> BudgetState:
    """Declare the campaign's allocation units (replacing the previous set), checking each."""
    campaign = campaigns.get_campaign(store, workspace_id, campaign_ref)
    currency = campaign.plan.currency
    problems, seen = [], set()
    if not units or len(units) > MAX_UNITS:
        problems.append(FieldProblem("units", f"between 1 and {MAX_UNITS} units"))
    for i, unit in enumerate(units):
        name = unit_key_text(unit.key)
        if name in seen:
            problems.append(FieldProblem(f"units[{i}]", f"unit {name!r} is declared twice"))
        seen.add(name)
        if unit.min_daily > unit.max_daily:
            problems.append(FieldProblem(f"units[{i}].min_daily", "must not exceed max_daily"))
        for field in ("min_daily", "max_daily"):
            value: Decimal = getattr(unit, field)
            if value != value.quantize(Decimal(1).scaleb(-_digits(currency))):
                problems.append(
                    FieldProblem(
                        f"units[{i}].{field}",
                        f"{currency} has {_digits(currency)} decimal places at most",
                    )
                )
    if problems:
        raise InvalidInput("the allocation units are not valid", problems)
    now = clock.now()
    with store.transaction() as conn:
        conn.execute(delete(budget_units).where(budget_units.c.campaign_id == campaign.id))
        for unit in units:
            conn.execute(
                insert(budget_units).values(
                    id=ids.new("bun"),
                    campaign_id=campaign.id,
                    unit_key=unit_key_text(unit.key),
                    channel=unit.channel,
                    ad_set=unit.ad_set,
                    audience=unit.audience,
                    min_daily_minor=_to_minor(unit.min_daily, currency),
                    max_daily_minor=_to_minor(unit.max_daily, currency),
                    created_at=now,
                )
            )
    return budget_state(store, workspace_id, campaign.id)


def set_policy(
    store: AppStore,
    workspace_id: str,
    campaign_ref: str,
    policy: BudgetPolicy,
    *,
    clock: Clock,
    actor: str,
) -> BudgetState:
    """Store how the allocator may move this campaign's money."""
    if policy.objective == "cpa" and policy.target_cpa is None:
        raise InvalidInput(
            "the policy is not valid",
            [FieldProblem("target_cpa", "objective 'cpa' needs a target CPA")],
        )
    campaign = campaigns.get_campaign(store, workspace_id, campaign_ref)
    values = {"policy": policy.model_dump(mode="json"), "updated_at": clock.now(), "actor": actor}
    with store.transaction() as conn:
        found = conn.execute(
            update(budget_policies)
            .where(budget_policies.c.campaign_id == campaign.id)
            .values(**values)
        ).rowcount
        if not found:
            conn.execute(insert(budget_policies).values(campaign_id=campaign.id, **values))
    return budget_state(store, workspace_id, campaign.id)


def _current(conn: Connection, campaign_id: str, currency: str) -> BudgetChange | None:
    row = conn.execute(
        select(budget_changes)
        .where(budget_changes.c.campaign_id == campaign_id, budget_changes.c.status == "applied")
        .order_by(budget_changes.c.applied_at.desc(), budget_changes.c.at.desc())
        .limit(1)
    ).first()
    return None if row is None else _to_change(row, currency)


def budget_state(store: AppStore, workspace_id: str, campaign_ref: str) -> BudgetState:
    """The campaign's budget: total, dates, units, policy and the split now applied."""
    campaign = campaigns.get_campaign(store, workspace_id, campaign_ref)
    currency = campaign.plan.currency
    with store.reading() as conn:
        unit_rows = conn.execute(
            select(budget_units)
            .where(budget_units.c.campaign_id == campaign.id)
            .order_by(budget_units.c.unit_key)
        ).all()
        policy_row = conn.execute(
            select(budget_policies.c.policy).where(budget_policies.c.campaign_id == campaign.id)
        ).first()
        current = _current(conn, campaign.id, currency)
    units = tuple(
        BudgetUnit(
            key=UnitKey(r.channel, r.ad_set, r.audience),
            min_daily=_from_minor(r.min_daily_minor, currency),
            max_daily=_from_minor(r.max_daily_minor, currency),
        )
        for r in unit_rows
    )
    return BudgetState(
        campaign_id=campaign.id,
        currency=currency,
        total=campaign.plan.budget.total,
        start_date=campaign.plan.start_date,
        end_date=campaign.plan.end_date,
        units=units,
        policy=BudgetPolicy() if policy_row is None else BudgetPolicy.model_validate(policy_row[0]),
        current=current,
    )


def history(store: AppStore, workspace_id: str, campaign_ref: str) -> list[BudgetChange]:
    """Every split ever proposed or applied, newest first, with who, when, why and status."""
    state = budget_state(store, workspace_id, campaign_ref)
    with store.reading() as conn:
        rows = conn.execute(
            select(budget_changes)
            .where(budget_changes.c.campaign_id == state.campaign_id)
            .order_by(budget_changes.c.at.desc(), budget_changes.c.id.desc())
        )
        return [_to_change(r, state.currency) for r in rows]


def _check_split(state: BudgetState, split: Mapping[str, Decimal]) -> list[FieldProblem]:
    names = {u.name: u for u in state.units}
    problems = [
        FieldProblem(f"split.{name[:200]}", "not an allocation unit of this campaign")
        for name in split
        if name not in names
    ]
    for name, amount in split.items():
        unit = names.get(name)
        if unit is not None and not unit.min_daily <= amount <= unit.max_daily:
            problems.append(
                FieldProblem(
                    f"split.{name}", f"{amount} is outside {unit.min_daily}..{unit.max_daily}"
                )
            )
    return problems


def propose(
    store: AppStore,
    workspace_id: str,
    campaign_ref: str,
    split: Mapping[str, Decimal],
    *,
    reason: str,
    expected: Mapping[str, Any],
    clock: Clock,
    ids: IdSource,
    actor: str,
    reverts: str | None = None,
) -> BudgetChange:
    """Record a proposed split (status recommended) after checking it against the units."""
    state = budget_state(store, workspace_id, campaign_ref)
    problems = _check_split(state, split)
    if problems:
        raise InvalidInput("the split is not valid", problems)
    change_id = ids.new("bch")
    with store.transaction() as conn:
        conn.execute(
            insert(budget_changes).values(
                id=change_id,
                campaign_id=state.campaign_id,
                at=clock.now(),
                actor=actor,
                status="recommended",
                reason=reason[:5000],
                split={k: _to_minor(v, state.currency) for k, v in split.items()},
                expected=dict(expected),
                reverts=reverts,
            )
        )
    return next(c for c in history(store, workspace_id, state.campaign_id) if c.id == change_id)


def apply(
    store: AppStore,
    workspace_id: str,
    campaign_ref: str,
    change_id: str,
    *,
    clock: Clock,
    actor: str,
    platforms: Sequence[AdPlatform] = (),
    effective: date | None = None,
) -> BudgetChange:
    """Make a recommended split the current one, and push it to the ad platforms that run it."""
    state = budget_state(store, workspace_id, campaign_ref)
    now = clock.now()
    with store.transaction() as conn:
        row = conn.execute(
            select(budget_changes).where(
                budget_changes.c.id == change_id,
                budget_changes.c.campaign_id == state.campaign_id,
            )
        ).first()
        if row is None:
            raise NotFound("budget change", change_id)
        if row.status != "recommended":
            raise Conflict(
                f"budget change {change_id!r} is {row.status}, only a recommended one applies",
                {"status": row.status},
            )
        conn.execute(
            update(budget_changes)
            .where(
                budget_changes.c.campaign_id == state.campaign_id,
                budget_changes.c.status == "recommended",
                budget_changes.c.id != change_id,
            )
            .values(status="superseded")
        )
        conn.execute(
            update(budget_changes)
            .where(budget_changes.c.id == change_id)
            .values(status="applied", applied_at=now, applied_by=actor)
        )
    change = next(c for c in history(store, workspace_id, state.campaign_id) if c.id == change_id)
    by_name = {u.name: u.key for u in state.units}
    day = effective or max(now.date() + timedelta(days=1), state.start_date)
    for platform in platforms:
        runs = {unit_key_text(k) for k in platform.units()}
        budgets = {by_name[n]: amount for n, amount in change.split.items() if n in runs}
        if budgets:
            platform.set_daily_budgets(budgets, day)
    return change


def revert(
    store: AppStore,
    workspace_id: str,
    campaign_ref: str,
    change_id: str,
    *,
    clock: Clock,
    ids: IdSource,
    actor: str,
    platforms: Sequence[AdPlatform] = (),
) -> BudgetChange:
    """Undo an applied change: apply again the split that was current before it."""
    changes = history(store, workspace_id, campaign_ref)
    applied = sorted(
        (c for c in changes if c.applied_at is not None), key=lambda c: (c.applied_at, c.at)
    )
    position = next((i for i, c in enumerate(applied) if c.id == change_id), None)
    if position is None:
        raise NotFound("applied budget change", change_id)
    if position == 0:
        raise Conflict(f"budget change {change_id!r} is the first split: nothing to go back to")
    before = applied[position - 1]
    proposed = propose(
        store,
        workspace_id,
        campaign_ref,
        before.split,
        reason=f"revert {change_id}: back to the split of {before.id}",
        expected={},
        clock=clock,
        ids=ids,
        actor=actor,
        reverts=change_id,
    )
    return apply(
        store,
        workspace_id,
        campaign_ref,
        proposed.id,
        clock=clock,
        actor=actor,
        platforms=platforms,
    )


def observed(
    store: AppStore, events: EventStore, workspace_id: str, campaign_ref: str, *, now: datetime
) -> dict[str, DailyResults]:
    """Each unit's cost and results per day so far.

    Cost comes from the spend rows. Results are the conversions the ad platform reported for
    the unit's ad set where it reported them (decision 0040), else Clarion's own conversion
    events from the metric dictionary, or their revenue when the policy's objective is value.

    The event store records channel and ad set, not the audience, so units that differ only
    by audience share their ad set's figures (split evenly between them).
    """
    state = budget_state(store, workspace_id, campaign_ref)
    last = min(state.end_date, now.date() - timedelta(days=1))
    days = (last - state.start_date).days + 1
    sharing: dict[tuple[str, str], int] = {}
    for unit in state.units:
        pair = (unit.key.channel, unit.key.ad_set)
        sharing[pair] = sharing.get(pair, 0) + 1
    cost = {pair: [0.0] * max(days, 0) for pair in sharing}
    results = {pair: [0.0] * max(days, 0) for pair in sharing}
    reported: set[tuple[str, str]] = set()
    for pair, index, spent, conversions in _spend_by_unit_day(events, workspace_id, state):
        if pair in sharing and 0 <= index < days:
            cost[pair][index] += spent
            if conversions is not None and state.policy.objective != "value":
                # Clarion's own conversion events know the channel, not the ad set: per unit,
                # the platform's own attribution is the only signal there is (decision 0040).
                results[pair][index] += conversions
                reported.add(pair)
    if reported != set(sharing):  # some units' results must come from Clarion's own events
        result_metric = "revenue" if state.policy.objective == "value" else "conversions"
        found = analytics.campaign_metrics(
            store,
            events,
            workspace_id,
            state.campaign_id,
            now=now,
            metrics=[result_metric],
            by=["channel", "ad_set", "day"],
            since=state.start_date,
            until=last,
        )
        for row in found.rows:
            pair = (row.group.get("channel", ""), row.group.get("ad_set", ""))
            if pair not in sharing or pair in reported:
                continue
            index = (date.fromisoformat(str(row.group["day"])[:10]) - state.start_date).days
            if 0 <= index < days:
                results[pair][index] += row.metrics[result_metric].value or 0.0
    result = {}
    for unit in state.units:
        pair = (unit.key.channel, unit.key.ad_set)
        share = sharing[pair]
        result[unit.name] = DailyResults(
            [c / share for c in cost[pair]], [c / share for c in results[pair]]
        )
    return result


def _spend_by_unit_day(
    events: EventStore, workspace_id: str, state: BudgetState
) -> list[tuple[tuple[str, str], int, float, float | None]]:
    """(channel, ad set), day index, cost and the platform's conversions (None: not reported)."""
    spend = current_spend(events, workspace_id)
    spend = spend.filter(spend.campaign_id == state.campaign_id)
    rows = (
        spend.group_by(["channel", "ad_set", "day"])
        .aggregate(
            cost=spend.cost.sum(),
            conversions=spend.conversions.sum(),
            reported=spend.conversions.count(),
        )
        .to_pyarrow()
        .to_pylist()
    )
    return [
        (
            (str(r["channel"]), str(r["ad_set"] or "")),
            (r["day"] - state.start_date).days,
            float(r["cost"] or 0.0),
            float(r["conversions"]) if r["reported"] else None,
        )
        for r in rows
    ]


def recommend(
    store: AppStore,
    workspace_id: str,
    campaign_ref: str,
    observations: Mapping[str, DailyResults],
    *,
    clock: Clock,
    ids: IdSource,
    rng: np.random.Generator,
    actor: str = ALLOCATOR,
    platforms: Sequence[AdPlatform] = (),
) -> tuple[BudgetChange, Recommendation]:
    """Compute tomorrow's split, record it as recommended, and apply it at once in auto mode."""
    state = budget_state(store, workspace_id, campaign_ref)
    if not state.units:
        raise Conflict("declare the campaign's allocation units before asking for a split")
    # The split decided now runs from tomorrow (or the start); days before it that are not yet
    # observed are assumed spent at the current split.
    effective = max(clock.now().date() + timedelta(days=1), state.start_date)
    days_total = (state.end_date - state.start_date).days + 1
    days_left = (state.end_date - effective).days + 1
    if days_left <= 0:
        raise Conflict("the campaign has ended: there is no budget left to allocate")
    observed_days = max((len(o.spend) for o in observations.values()), default=0)
    pending = max(0, (effective - state.start_date).days - observed_days)
    committed = pending * float(sum(state.current.split.values())) if state.current else 0.0
    spent = sum(sum(o.spend) for o in observations.values())
    remaining = float(state.total) - spent - committed
    planned_daily = float(state.total) / days_total
    per_unit = planned_daily / len(state.units)
    policy = state.policy
    target = float(policy.target_cpa) if policy.target_cpa is not None else None
    histories = []
    for unit in state.units:
        seen = observations.get(unit.name, DailyResults([], []))
        if policy.objective == "value":
            expected = per_unit  # a return on ad spend of 1 until the data says otherwise
        else:
            expected = per_unit / target if target else max(per_unit / 50.0, 1e-3)
        histories.append(
            UnitHistory(
                np.asarray(seen.spend, dtype=float),
                np.asarray(seen.results, dtype=float),
                ResponsePrior(reference_spend=per_unit, expected_at_reference=expected),
            )
        )
    current = (
        None
        if state.current is None
        else np.array([float(state.current.split.get(u.name, 0)) for u in state.units])
    )
    allocation = allocate(
        histories,
        np.array([float(u.min_daily) for u in state.units]),
        np.array([float(u.max_daily) for u in state.units]),
        current,
        remaining=remaining,
        days_left=days_left,
        policy=policy,
        rng=rng,
    )
    quantum = Decimal(1).scaleb(-_digits(state.currency))
    split = {
        u.name: min(u.max_daily, max(u.min_daily, Decimal(repr(x)).quantize(quantum)))
        for u, x in zip(state.units, allocation.split.tolist(), strict=True)
    }
    alerts = (
        []
        if policy.objective == "value"
        else cpa_drift_alerts(
            [u.name for u in state.units],
            [h.spend.tolist() for h in histories],
            [h.results.tolist() for h in histories],
            policy,
        )
    )
    pace = pacing_alert(spent, float(state.total), observed_days, days_total, policy)
    alerts += [pace] if pace else []
    recommendation = Recommendation(
        split=split,
        daily_total=Decimal(repr(allocation.daily_total)).quantize(quantum),
        expected=allocation.expected,
        frozen=allocation.frozen,
        notes=allocation.notes,
        alerts=tuple(alerts),
    )
    reason = "; ".join(allocation.notes) or "posterior marginal return (Thompson sampling)"
    change = propose(
        store,
        workspace_id,
        state.campaign_id,
        split,
        reason=reason,
        expected={
            **asdict(allocation.expected),
            "frozen": allocation.frozen,
            "alerts": [asdict(a) for a in alerts],
        },
        clock=clock,
        ids=ids,
        actor=actor,
    )
    if policy.mode == "auto":
        change = apply(
            store,
            workspace_id,
            state.campaign_id,
            change.id,
            clock=clock,
            actor=actor,
            platforms=platforms,
            effective=effective,
        )
    return change, recommendation
