"""The allocator on the simulator's paid market: auto-applied daily, spend read back from events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from clarion.auth.contracts import Workspace
from clarion.campaigns import service as campaigns
from clarion.campaigns.plan import CampaignPlan
from clarion.core.clock import SimulatedClock
from clarion.instance import Instance
from clarion.optimize import service as budget
from clarion.optimize.contracts import BudgetPolicy, DailyResults, UnitSpec, unit_key_text
from clarion.simulate.paid_market import PaidMarket
from clarion.simulate.spend_rows import record_reports

START = datetime(2027, 3, 1, tzinfo=UTC)
# Each night just after midnight: read yesterday's report, decide tomorrow's split.
NIGHT = datetime(2027, 2, 28, 0, 30, tzinfo=UTC)


def test_auto_mode_drives_the_simulated_platforms_and_reads_spend_back(
    instance: Instance, workspace: Workspace
) -> None:
    clock = instance.clock
    assert isinstance(clock, SimulatedClock)
    clock.set(NIGHT)
    market = PaidMarket.generate(4, clock=clock, start=START.date())
    plan = CampaignPlan.model_validate(
        {
            "key": "sim-budget",
            "name": "Simulated budget",
            "objective": "Sell more",
            "start_date": "2027-03-01",
            "end_date": "2027-03-30",
            "budget": {"total": "30000"},
        }
    )
    campaign = campaigns.apply_plan(
        instance.store, workspace.id, plan, clock=clock, ids=instance.ids, actor="test"
    ).campaign
    units = [
        UnitSpec(channel=u.channel, ad_set=u.ad_set, audience=u.audience, max_daily=Decimal(900))
        for u in market.units()
    ]
    budget.set_units(
        instance.store, workspace.id, campaign.id, units, clock=clock, ids=instance.ids
    )
    budget.set_policy(
        instance.store,
        workspace.id,
        campaign.id,
        BudgetPolicy(mode="auto"),
        clock=clock,
        actor="test",
    )
    seen = {unit_key_text(u.key): DailyResults([], []) for u in units}
    rng = np.random.default_rng(2)
    for night in range(9):
        clock.set(NIGHT + timedelta(days=night))
        yesterday = clock.now().date() - timedelta(days=1)
        for platform in market.platforms.values() if yesterday >= START.date() else []:
            reports = platform.report(yesterday)
            events = instance.events
            assert events is not None
            record_reports(
                events,
                reports,
                workspace_id=workspace.id,
                source=platform.name,
                clock=clock,
                campaign_id=campaign.id,
            )
            for report in reports:
                seen[unit_key_text(report.unit)].spend.append(float(report.cost))
                seen[unit_key_text(report.unit)].results.append(float(report.conversions or 0))
        change, _ = budget.recommend(
            instance.store,
            workspace.id,
            campaign.id,
            seen,
            clock=clock,
            ids=instance.ids,
            rng=rng,
            platforms=list(market.platforms.values()),
        )
        assert change.status == "applied"

    assert instance.events is not None
    read_back = budget.observed(
        instance.store, instance.events, workspace.id, campaign.id, now=clock.now()
    )
    for name, days in seen.items():
        assert read_back[name].spend == pytest.approx(days.spend, abs=0.01)
    spent = sum(sum(d.spend) for d in seen.values())
    assert spent == pytest.approx(7 * 1000, rel=0.001)  # paced: 30 000 over 30 days
    assert len(budget.history(instance.store, workspace.id, campaign.id)) == 9
