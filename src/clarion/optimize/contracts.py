"""What the budget slice shows the rest of the system: units, policy, changes, recommendations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from clarion.delivery.ad_platform import UnitKey

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]


class UnitSpec(BaseModel):
    """An allocation unit as a marketer declares it: channel × ad set × audience, daily bounds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Name
    ad_set: Name
    audience: Name | None = None
    min_daily: Decimal = Field(default=Decimal(0), ge=0, le=Decimal(10) ** 9)
    max_daily: Decimal = Field(ge=0, le=Decimal(10) ** 9)

    @property
    def key(self) -> UnitKey:
        return UnitKey(self.channel, self.ad_set, self.audience)


class BudgetPolicy(BaseModel):
    """How the allocator may move money: the objective, the mode and every guard rail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    objective: Literal["conversions", "value", "cpa"] = "conversions"
    target_cpa: Decimal | None = Field(default=None, gt=0, description="needed for objective cpa")
    mode: Literal["recommend", "auto"] = "recommend"
    max_step_change: float = Field(default=0.3, gt=0, le=10, description="±share per step")
    exploration_floor: float = Field(
        default=0.1, ge=0, le=1, description="share of an equal split every unit keeps"
    )
    min_days: int = Field(default=1, ge=0, le=365, description="days of data before moving")
    min_results: float = Field(default=5, ge=0, description="conversions before moving")
    half_life_days: float | None = Field(default=7, gt=0, le=365)
    cpa_drift_tolerance: float = Field(default=0.2, ge=0, le=10)
    pacing_tolerance: float = Field(default=0.1, gt=0, le=1)


def unit_key_text(key: UnitKey) -> str:
    """The stable text name of a unit: ``channel/ad_set`` or ``channel/ad_set/audience``."""
    parts = [key.channel, key.ad_set] + ([key.audience] if key.audience else [])
    return "/".join(parts)


@dataclass(frozen=True)
class BudgetUnit:
    """A stored allocation unit with its daily bounds (in the campaign's currency)."""

    key: UnitKey
    min_daily: Decimal
    max_daily: Decimal

    @property
    def name(self) -> str:
        return unit_key_text(self.key)


@dataclass(frozen=True)
class Expected:
    """The expected effect of a split: results per day, with a 90% posterior interval."""

    results_per_day: float
    low: float
    high: float
    change_vs_current: float  # expected extra results per day over the current split
    change_low: float
    change_high: float


@dataclass(frozen=True)
class BudgetChange:
    """One entry of a campaign's split history: who or what proposed it, why, what it expects."""

    id: str
    at: datetime
    actor: str
    status: str  # recommended, applied, rejected, superseded
    reason: str
    split: dict[str, Decimal]
    expected: dict[str, Any]
    reverts: str | None
    applied_at: datetime | None
    applied_by: str | None


@dataclass(frozen=True)
class DailyResults:
    """A unit's spend and results per day since the campaign started, oldest first."""

    spend: list[float]
    results: list[float]


@dataclass(frozen=True)
class BudgetState:
    """A campaign's budget as the allocator sees it: total, dates, units, policy, current split."""

    campaign_id: str
    currency: str
    total: Decimal
    start_date: date
    end_date: date
    units: tuple[BudgetUnit, ...]
    policy: BudgetPolicy
    current: BudgetChange | None


@dataclass(frozen=True)
class Alert:
    """Something a marketer should look at: a unit's CPA drifting beyond target, pacing off."""

    kind: Literal["cpa_drift", "pacing"]
    unit: str | None
    message: str


@dataclass(frozen=True)
class Recommendation:
    """The allocator's proposed daily split with its expected effect, notes and alerts."""

    split: dict[str, Decimal]
    daily_total: Decimal
    expected: Expected | None
    frozen: bool
    notes: tuple[str, ...] = ()
    alerts: tuple[Alert, ...] = field(default_factory=tuple)
