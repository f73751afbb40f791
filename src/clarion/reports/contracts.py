"""What a report holds: frozen facts, findings, recommendations and learnings, all from data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

KpiVerdict = Literal["met", "missed", "inconclusive", "no_data", "not_measured"]
HypothesisVerdict = Literal["supported", "refuted", "inconclusive", "no_data"]
FindingKind = Literal[
    "best", "worst", "bottleneck", "pacing", "bounce_spike", "experiment", "budget_move"
]


@dataclass(frozen=True)
class Interval:
    """A measured value with its 95% interval and the number of units behind it."""

    value: float | None
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class KpiResult:
    """One KPI target of the plan beside its result, with a verdict that respects the interval."""

    metric: str
    text: str  # as the plan wrote it: "cpa <= 40 EUR"
    target: float  # in the metric's own unit (25% is 0.25)
    expected_by_now: float | None
    actual: Interval | None
    pacing: float | None
    verdict: KpiVerdict
    reason: str


@dataclass(frozen=True)
class GroupResult:
    """One side of a hypothesis: its group and the metric measured over it."""

    group: dict[str, str]
    measured: Interval


@dataclass(frozen=True)
class HypothesisResult:
    """A pre-registered hypothesis judged on the 95% interval of first ÷ second."""

    key: str
    statement: str
    metric: str
    expected: str  # higher, lower, different
    min_ratio: float | None
    groups: tuple[GroupResult, GroupResult]
    ratio: Interval | None
    verdict: HypothesisVerdict
    reason: str


@dataclass(frozen=True)
class Finding:
    """An observation the engine made from the data, with the numbers that show it."""

    id: str  # stable within a report, e.g. "best-persona", so recommendations can cite it
    kind: FindingKind
    title: str
    detail: str
    evidence: dict[str, Any]


@dataclass(frozen=True)
class Recommendation:
    """An action derived from findings by a rule, citing the findings it rests on."""

    id: str
    action: Literal["focus", "retire_variant", "retarget", "fix_pacing", "check_list", "rebalance"]
    text: str
    evidence: tuple[str, ...]  # finding or hypothesis ids


@dataclass(frozen=True)
class Learning:
    """A lesson for the next plan, kept in the workspace's learning log."""

    key: str  # stable per campaign, so regenerating a report replaces rather than repeats
    text: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class SectionNote:
    """Why a section is empty: the data it needs does not exist (it is never made up)."""

    section: str
    text: str


@dataclass(frozen=True)
class Report:
    """The post-campaign report of one campaign, as read at ``generated_at``."""

    campaign_id: str
    campaign_key: str
    name: str
    objective: str
    state: str
    start_date: date
    end_date: date
    currency: str
    budget_total: float
    generated_at: datetime
    elapsed: float
    kpis: list[KpiResult]
    hypotheses: list[HypothesisResult]
    findings: list[Finding]
    recommendations: list[Recommendation]
    learnings: list[Learning]
    notes: list[SectionNote] = field(default_factory=list)
    charts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # chart id -> rows
