"""The campaigns service on a real app store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clarion.auth import service as auth
from clarion.auth.contracts import Workspace
from clarion.campaigns import service
from clarion.campaigns.files import load_plan_file
from clarion.campaigns.lifecycle import CampaignState
from clarion.campaigns.plan import CampaignPlan
from clarion.campaigns.tables import (
    campaign_channel_budgets,
    campaign_hypotheses,
    campaign_kpi_targets,
    campaigns,
)
from clarion.core.clock import SimulatedClock
from clarion.core.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from clarion.core.ids import SeededIds
from clarion.stores.app import AppStore

from shared_paths import EXAMPLES

S = CampaignState


@pytest.fixture
def plan() -> CampaignPlan:
    return load_plan_file(EXAMPLES / "spring-launch.yaml")


def apply(store, workspace, plan, clock, ids):
    return service.apply_plan(store, workspace.id, plan, clock=clock, ids=ids, actor="test")


def test_applying_a_file_twice_creates_once_then_changes_nothing(
    store: AppStore, workspace: Workspace, plan: CampaignPlan, clock: SimulatedClock, ids: SeededIds
) -> None:
    first = apply(store, workspace, plan, clock, ids)
    second = apply(store, workspace, plan, clock, ids)
    assert (first.action, second.action) == ("created", "unchanged")
    assert second.campaign.id == first.campaign.id
    assert second.campaign.revision == 1
    assert first.campaign.state is S.DRAFT
    assert first.campaign.plan == plan


def test_an_edited_file_updates_the_campaign_and_its_parts(
    store: AppStore, workspace: Workspace, plan: CampaignPlan, clock: SimulatedClock, ids: SeededIds
) -> None:
    created = apply(store, workspace, plan, clock, ids).campaign
    clock.advance(timedelta(hours=1))
    data = plan.model_dump()
    data["kpis"] = data["kpis"][:1]
    data["budget"] = {"total": 25000, "split": {**plan.budget.split, "search": 11500}}
    edited = CampaignPlan.model_validate(data)
    result = apply(store, workspace, edited, clock, ids)
    assert result.action == "updated"
    assert result.campaign.id == created.id
    assert result.campaign.revision == 2
    assert result.campaign.updated_at == clock.now()
    with store.reading() as conn:
        kpis = conn.execute(select(func.count()).select_from(campaign_kpi_targets)).scalar()
        search = conn.execute(
            select(campaign_channel_budgets.c.amount_minor).where(
                campaign_channel_budgets.c.channel == "search"
            )
        ).scalar()
        hypotheses = conn.execute(select(func.count()).select_from(campaign_hypotheses)).scalar()
    assert (kpis, search, hypotheses) == (1, 1_150_000, 2)


def test_an_invalid_plan_stores_nothing(
    store: AppStore, workspace: Workspace, plan: CampaignPlan, clock: SimulatedClock, ids: SeededIds
) -> None:
    broken = plan.model_copy(update={"end_date": plan.start_date - timedelta(days=1)})
    with pytest.raises(InvalidInput, match="end_date"):
        apply(store, workspace, broken, clock, ids)
    with store.reading() as conn:
        assert conn.execute(select(func.count()).select_from(campaigns)).scalar() == 0


def test_the_lifecycle_is_enforced_and_recorded(
    store: AppStore, workspace: Workspace, plan: CampaignPlan, clock: SimulatedClock, ids: SeededIds
) -> None:
    campaign = apply(store, workspace, plan, clock, ids).campaign
    for target in (S.SCHEDULED, S.RUNNING, S.PAUSED, S.RUNNING, S.COMPLETED):
        clock.advance(timedelta(days=1))
        moved = service.transition(
            store, workspace.id, plan.key, target, clock=clock, actor="ana", reason=f"to {target}"
        )
        assert moved.state is target
    with pytest.raises(IllegalTransition, match="cannot go from completed to running"):
        service.transition(store, workspace.id, campaign.id, S.RUNNING, clock=clock, actor="ana")
    steps = service.history(store, workspace.id, campaign.id)
    assert [(t.from_state, t.to_state) for t in steps] == [
        (None, S.DRAFT),
        (S.DRAFT, S.SCHEDULED),
        (S.SCHEDULED, S.RUNNING),
        (S.RUNNING, S.PAUSED),
        (S.PAUSED, S.RUNNING),
        (S.RUNNING, S.COMPLETED),
    ]
    assert steps[-1].actor == "ana"
    assert steps[-1].at == clock.now()


def test_a_finished_campaign_plan_cannot_change(
    store: AppStore, workspace: Workspace, plan: CampaignPlan, clock: SimulatedClock, ids: SeededIds
) -> None:
    apply(store, workspace, plan, clock, ids)
    service.transition(store, workspace.id, plan.key, S.CANCELLED, clock=clock, actor="ana")
    with pytest.raises(Conflict, match="cancelled"):
        apply(store, workspace, plan.model_copy(update={"name": "Renamed"}), clock, ids)


def test_create_refuses_a_taken_key_and_update_refuses_a_new_key(
    store: AppStore, workspace: Workspace, plan: CampaignPlan, clock: SimulatedClock, ids: SeededIds
) -> None:
    service.create_campaign(store, workspace.id, plan, clock=clock, ids=ids, actor="t")
    with pytest.raises(Conflict, match="exists already"):
        service.create_campaign(store, workspace.id, plan, clock=clock, ids=ids, actor="t")
    with pytest.raises(Conflict, match="differs"):
        service.update_campaign(
            store, workspace.id, plan.key, plan.model_copy(update={"key": "other"}), clock=clock
        )


def test_campaigns_are_scoped_to_their_workspace(
    store: AppStore, workspace: Workspace, plan: CampaignPlan, clock: SimulatedClock, ids: SeededIds
) -> None:
    other, _ = auth.ensure_workspace(store, "agency-b", "Agency B", clock=clock, ids=ids)
    apply(store, workspace, plan, clock, ids)
    assert service.list_campaigns(store, other.id) == []
    with pytest.raises(NotFound):
        service.get_campaign(store, other.id, plan.key)
    # The same key may exist in another workspace.
    assert apply(store, other, plan, clock, ids).action == "created"


def test_listing_filters_by_state(
    store: AppStore, workspace: Workspace, plan: CampaignPlan, clock: SimulatedClock, ids: SeededIds
) -> None:
    apply(store, workspace, plan, clock, ids)
    apply(store, workspace, plan.model_copy(update={"key": "second"}), clock, ids)
    service.transition(store, workspace.id, "second", S.SCHEDULED, clock=clock, actor="a")
    assert [c.key for c in service.list_campaigns(store, workspace.id, S.SCHEDULED)] == ["second"]
    assert len(service.list_campaigns(store, workspace.id)) == 2


def test_hostile_text_is_stored_as_plain_data(
    store: AppStore, workspace: Workspace, plan: CampaignPlan, clock: SimulatedClock, ids: SeededIds
) -> None:
    hostile = "Robert'); DROP TABLE campaigns;-- <script>alert(1)</script> {{ 7*7 }}"
    stored = apply(store, workspace, plan.model_copy(update={"name": hostile}), clock, ids)
    assert service.get_campaign(store, workspace.id, plan.key).name == hostile
    assert stored.campaign.name == hostile
