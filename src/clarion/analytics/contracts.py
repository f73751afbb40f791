"""What the analytics slice shows the rest of the system: frozen results of its service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

TargetStatus = Literal["on_track", "off_track", "inconclusive", "no_data", "not_measured"]


@dataclass(frozen=True)
class Sums:
    """Sufficient statistics of one metric in one group: units and the sums over them."""

    n: int
    num_sum: float
    num_sum_squares: float
    den_sum: float
    den_sum_squares: float
    sum_products: float


@dataclass(frozen=True)
class Estimate:
    """A metric's value in one group with its standard error and 95% interval.

    ``value`` is None when the denominator is zero (a CPA without conversions).
    """

    value: float | None
    std_error: float | None
    low: float | None
    high: float | None
    sums: Sums


@dataclass(frozen=True)
class MetricRow:
    """One group (a combination of dimension values) and its metrics."""

    group: dict[str, str]  # dimension -> value; "(none)" when the fact does not record it
    metrics: dict[str, Estimate]


@dataclass(frozen=True)
class TargetCheck:
    """A KPI target of the plan beside the actual, with pacing and a verdict."""

    metric: str
    comparator: str
    target: float  # in the metric's own unit (25% is 0.25)
    text: str  # as written in the plan, e.g. "cpa <= 40 EUR"
    actual: Estimate | None
    expected_by_now: float | None  # a total's target × elapsed share; a rate's target itself
    pacing: float | None  # actual / expected_by_now
    status: TargetStatus
    reason: str  # one sentence on the verdict


@dataclass(frozen=True)
class CampaignMetrics:
    """A campaign's metrics by the asked dimensions, and its KPI targets beside the actuals."""

    campaign_id: str
    campaign_key: str
    by: tuple[str, ...]
    metrics: tuple[str, ...]
    since: date | None
    until: date | None
    elapsed: float  # share of the campaign's days gone by now, 0 to 1
    rows: list[MetricRow]
    targets: list[TargetCheck]


@dataclass(frozen=True)
class CampaignPeople:
    """Which campaign's people an analysis follows, and over which instants [since, until)."""

    campaign_id: str
    campaign_key: str
    since: datetime | None  # the campaign's first day, 00:00 UTC, unless asked otherwise
    until: datetime | None
