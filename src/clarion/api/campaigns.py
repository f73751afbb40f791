"""Routes for /v1/campaigns: create, read, update, list, apply, transition, history."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from clarion.api.deps import InstanceDep, SecretKeyDep
from clarion.campaigns import service
from clarion.campaigns.contracts import Campaign, Transition
from clarion.campaigns.lifecycle import CampaignState, allowed_from
from clarion.campaigns.plan import CampaignPlan

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


class CampaignOut(BaseModel):
    """A campaign as the API shows it."""

    id: str
    key: str
    state: CampaignState
    allowed_transitions: list[str]
    revision: int
    created_at: datetime
    updated_at: datetime
    plan: CampaignPlan

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignOut:
        return cls(
            id=campaign.id,
            key=campaign.key,
            state=campaign.state,
            allowed_transitions=allowed_from(campaign.state),
            revision=campaign.revision,
            created_at=campaign.created_at,
            updated_at=campaign.updated_at,
            plan=campaign.plan,
        )


class CampaignList(BaseModel):
    campaigns: list[CampaignOut]


class ApplyOut(BaseModel):
    action: Literal["created", "updated", "unchanged"]
    campaign: CampaignOut


class TransitionIn(BaseModel):
    """Move a campaign to another state."""

    to: CampaignState
    reason: str = Field(default="", max_length=1000)


class TransitionOut(BaseModel):
    from_state: CampaignState | None
    to_state: CampaignState
    at: datetime
    actor: str
    reason: str

    @classmethod
    def of(cls, t: Transition) -> TransitionOut:
        return cls(
            from_state=t.from_state, to_state=t.to_state, at=t.at, actor=t.actor, reason=t.reason
        )


def _actor(key: SecretKeyDep) -> str:
    return f"api-key:{key.id}"


@router.get("", response_model=CampaignList)
def list_campaigns(
    instance: InstanceDep, key: SecretKeyDep, state: CampaignState | None = None
) -> CampaignList:
    """The workspace's campaigns, optionally in one state."""
    found = service.list_campaigns(instance.store, key.workspace_id, state)
    return CampaignList(campaigns=[CampaignOut.of(c) for c in found])


@router.post("", response_model=CampaignOut, status_code=status.HTTP_201_CREATED)
def create_campaign(instance: InstanceDep, key: SecretKeyDep, plan: CampaignPlan) -> CampaignOut:
    """Create a campaign from a plan; 409 if its key is taken."""
    campaign = service.create_campaign(
        instance.store,
        key.workspace_id,
        plan,
        clock=instance.clock,
        ids=instance.ids,
        actor=_actor(key),
    )
    return CampaignOut.of(campaign)


@router.post("/apply", response_model=ApplyOut)
def apply_campaign(
    instance: InstanceDep, key: SecretKeyDep, plan: CampaignPlan, response: Response
) -> ApplyOut:
    """Create or update the campaign named by the plan's key; idempotent."""
    result = service.apply_plan(
        instance.store,
        key.workspace_id,
        plan,
        clock=instance.clock,
        ids=instance.ids,
        actor=_actor(key),
    )
    if result.action == "created":
        response.status_code = status.HTTP_201_CREATED
    return ApplyOut(action=result.action, campaign=CampaignOut.of(result.campaign))


@router.get("/{ref}", response_model=CampaignOut)
def get_campaign(instance: InstanceDep, key: SecretKeyDep, ref: str) -> CampaignOut:
    """One campaign, by id or key."""
    return CampaignOut.of(service.get_campaign(instance.store, key.workspace_id, ref))


@router.put("/{ref}", response_model=CampaignOut)
def update_campaign(
    instance: InstanceDep, key: SecretKeyDep, ref: str, plan: CampaignPlan
) -> CampaignOut:
    """Replace a campaign's plan; its key cannot change."""
    campaign = service.update_campaign(
        instance.store, key.workspace_id, ref, plan, clock=instance.clock
    )
    return CampaignOut.of(campaign)


@router.post("/{ref}/transitions", response_model=CampaignOut)
def transition_campaign(
    instance: InstanceDep, key: SecretKeyDep, ref: str, body: TransitionIn
) -> CampaignOut:
    """Move a campaign through its lifecycle; 409 for a move the lifecycle forbids."""
    campaign = service.transition(
        instance.store,
        key.workspace_id,
        ref,
        body.to,
        clock=instance.clock,
        actor=_actor(key),
        reason=body.reason,
    )
    return CampaignOut.of(campaign)


@router.get("/{ref}/transitions", response_model=list[TransitionOut])
def campaign_history(instance: InstanceDep, key: SecretKeyDep, ref: str) -> list[TransitionOut]:
    """The campaign's lifecycle history, oldest first."""
    return [TransitionOut.of(t) for t in service.history(instance.store, key.workspace_id, ref)]
