"""What the campaigns slice shows the rest of the system: frozen results of its service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from clarion.campaigns.lifecycle import CampaignState
from clarion.campaigns.plan import CampaignPlan


@dataclass(frozen=True)
class Campaign:
    """A stored campaign: its plan, where it is in its life, and its revision."""

    id: str
    workspace_id: str
    state: CampaignState
    plan: CampaignPlan
    revision: int
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> str:
        return self.plan.key

    @property
    def name(self) -> str:
        return self.plan.name


@dataclass(frozen=True)
class Transition:
    """One step in a campaign's lifecycle history."""

    from_state: CampaignState | None
    to_state: CampaignState
    at: datetime
    actor: str
    reason: str


@dataclass(frozen=True)
class ApplyResult:
    """What applying a plan did: created a campaign, updated it, or found nothing to change."""

    action: Literal["created", "updated", "unchanged"]
    campaign: Campaign
