"""Findings: best and worst groups, funnel bottlenecks, anomalies, and experiment outcomes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from clarion.analytics.contracts import TargetCheck
from clarion.analytics.dictionary import DEFINITIONS
from clarion.analytics.funnels import FunnelStep, funnel
from clarion.analytics.queries import metric_rows
from clarion.analytics.scope import Scoped
from clarion.campaigns.plan import CampaignPlan
from clarion.core.metrics import Direction
from clarion.experiments.contracts import Experiment, StoredDecision
from clarion.optimize.contracts import BudgetChange
from clarion.reports.contracts import Finding, SectionNote

NONE: Final = "(none)"
RANKED_DIMENSIONS: Final = ("segment", "persona", "channel")
# Used when the plan targets no rate or ratio the dictionary can compute.
FALLBACK_METRICS: Final = ("conversion_rate", "click_rate", "ctr")
FUNNEL: Final = (FunnelStep("email_open"), FunnelStep("email_click"), FunnelStep("conversion"))
MIN_UNITS: Final = 20  # a group or a day with fewer units is too small to rank or flag
SPIKE_FACTOR: Final = 2.0  # a day's bounce rate at least this many times the campaign's


@dataclass(frozen=True)
class Found:
    """What one finder produced: its findings, and a note when it had no data to look at."""

    findings: list[Finding]
    notes: list[SectionNote]
    chart: tuple[str, list[dict[str, Any]]] | None = None


def ranking_metric(plan: CampaignPlan) -> str:
    """The metric groups are ranked by: the plan's first rate or ratio KPI, else a fallback."""
    for kpi in plan.kpis:
        definition = DEFINITIONS.get(kpi.metric)
        if definition is not None and not definition.additive:
            return kpi.metric
    return FALLBACK_METRICS[0]


def _shown(low: float | None, value: float, high: float | None) -> dict[str, float | None]:
    return {"value": value, "low": low, "high": high}


def best_and_worst(scope: Scoped, refs: tuple[str, ...], metric: str, dimension: str) -> Found:
    """The best and worst group on ``metric``; a leader whose interval overlaps another's is
    reported as not distinguishable from the rest."""
    rows = metric_rows(scope, [metric], [dimension], campaign_refs=refs)
    groups = [
        (row.group[dimension], row.metrics[metric])
        for row in rows
        if row.group[dimension] != NONE
        and row.metrics[metric].value is not None
        and row.metrics[metric].sums.n >= MIN_UNITS
    ]
    chart = [
        {"group": name, "value": e.value, "low": e.low, "high": e.high, "n": e.sums.n}
        for name, e in groups
    ]
    if len(groups) < 2:
        text = f"fewer than two {dimension}s with {MIN_UNITS}+ units measured on {metric}"
        return Found([], [SectionNote(f"best and worst {dimension}", text)], None)
    higher = DEFINITIONS[metric].meta.better is Direction.HIGHER
    ordered = sorted(groups, key=lambda g: g[1].value or 0.0, reverse=higher)
    findings = []
    for kind, (name, est), others in (
        ("best", ordered[0], ordered[1:]),
        ("worst", ordered[-1], ordered[:-1]),
    ):
        assert est.value is not None
        low = est.low if est.low is not None else est.value
        high = est.high if est.high is not None else est.value
        beyond_all = all(
            (low > (o.high if o.high is not None else o.value or 0.0))
            if (kind == "best") == higher
            else (high < (o.low if o.low is not None else o.value or 0.0))
            for _, o in others
        )
        word = "best" if kind == "best" else "worst"
        detail = (
            f"{metric} {est.value:.4g} (95% interval {low:.4g} to {high:.4g}) over {est.sums.n}"
            " units; "
            + (
                "its interval clears every other group's"
                if beyond_all
                else "its interval overlaps another group's: not distinguishable from the rest"
            )
        )
        findings.append(
            Finding(
                id=f"{kind}-{dimension}",
                kind="best" if kind == "best" else "worst",
                title=f"{word.capitalize()} {dimension}: {name}",
                detail=detail,
                evidence={
                    "dimension": dimension,
                    "group": name,
                    "metric": metric,
                    **_shown(low, est.value, high),
                    "n": est.sums.n,
                    "distinguishable": beyond_all,
                },
            )
        )
    return Found(findings, [], (f"{dimension}-{metric}", chart))


def _campaign_scope(scope: Scoped, refs: tuple[str, ...]) -> Scoped:
    stitched = scope.stitched.filter(scope.stitched.campaign_id.isin(list(refs)))
    return replace(scope, stitched=stitched)


def bottleneck(scope: Scoped, refs: tuple[str, ...], until: datetime, days: int) -> Found:
    """The email funnel (open → click → conversion) of the campaign and the step losing most."""
    window = timedelta(days=days + 30)
    result = funnel(_campaign_scope(scope, refs), FUNNEL, window, until=until)
    chart = [
        {"step": s.step.label, "reached": s.reached, "rate": s.rate, "low": s.low, "high": s.high}
        for s in result.steps
    ]
    if result.steps[0].reached == 0 or result.bottleneck is None:
        note = SectionNote("funnel", "no one opened a message of this campaign: no funnel yet")
        return Found([], [note], None)
    step = result.steps[result.bottleneck]
    before = result.steps[result.bottleneck - 1]
    assert step.rate is not None
    return Found(
        [
            Finding(
                id="bottleneck",
                kind="bottleneck",
                title=f"Funnel bottleneck: {before.step.label} → {step.step.label}",
                detail=(
                    f"{step.rate:.1%} of the {before.reached} people who reached"
                    f" {before.step.label} went on to {step.step.label} (95% interval"
                    f" {step.low or 0:.1%} to {step.high or 0:.1%}); {step.dropped} stopped there"
                ),
                evidence={
                    "from_step": before.step.label,
                    "to_step": step.step.label,
                    "reached_before": before.reached,
                    "reached": step.reached,
                    "dropped": step.dropped,
                    **_shown(step.low, step.rate, step.high),
                },
            )
        ],
        [],
        ("funnel", chart),
    )


def pacing(targets: Sequence[TargetCheck], elapsed: float) -> Found:
    """Totals whose whole interval lies off their expected-by-now: off pace."""
    findings = []
    for check in targets:
        definition = DEFINITIONS.get(check.metric)
        if definition is None or not definition.additive or check.status != "off_track":
            continue
        if check.actual is None:
            continue
        share = "before its start" if check.pacing is None else f"at {check.pacing:.0%} of plan"
        findings.append(
            Finding(
                id=f"pacing-{check.metric}",
                kind="pacing",
                title=f"Off pace: {check.metric} {share}",
                detail=f"{check.text}: {check.reason} ({elapsed:.0%} of the campaign gone by)",
                evidence={
                    "metric": check.metric,
                    "target": check.target,
                    "expected_by_now": check.expected_by_now,
                    "pacing": check.pacing,
                    "value": check.actual.value,
                    "low": check.actual.low,
                    "high": check.actual.high,
                },
            )
        )
    return Found(findings, [])


def bounce_spikes(scope: Scoped, refs: tuple[str, ...]) -> Found:
    """Days whose bounce rate's whole interval lies above the campaign's, at twice it or more."""
    metrics = ["hard_bounce_rate", "soft_bounce_rate"]
    total = metric_rows(scope, metrics, [], campaign_refs=refs)
    sent = total[0].metrics["hard_bounce_rate"].sums.n if total else 0
    if sent == 0:
        return Found([], [SectionNote("bounces", "no messages sent: no bounce rates to watch")])
    days = metric_rows(scope, metrics, ["day"], campaign_refs=refs)
    findings, chart = [], []
    for name in metrics:
        overall = total[0].metrics[name].value or 0.0
        for row in days:
            est = row.metrics[name]
            if est.value is None:
                continue
            chart.append({"day": row.group["day"], "metric": name, "value": est.value})
            low = est.low if est.low is not None else est.value
            if est.sums.n < MIN_UNITS or low <= overall or est.value < SPIKE_FACTOR * overall:
                continue
            day = row.group["day"]
            findings.append(
                Finding(
                    id=f"spike-{name}-{day}",
                    kind="bounce_spike",
                    title=f"Bounce spike on {day}: {name.replace('_', ' ')} {est.value:.1%}",
                    detail=(
                        f"{est.value:.1%} of {est.sums.n} messages (95% interval from"
                        f" {low:.1%}) against {overall:.1%} over the whole campaign"
                    ),
                    evidence={
                        "metric": name,
                        "day": day,
                        "overall": overall,
                        **_shown(low, est.value, est.high),
                        "n": est.sums.n,
                    },
                )
            )
    return Found(findings, [], ("bounces-by-day", chart))


def experiment_outcomes(
    experiments: Sequence[tuple[Experiment, StoredDecision | None]],
) -> Found:
    """The latest stored decision of each of the campaign's experiments, in its own words."""
    if not experiments:
        return Found([], [SectionNote("experiments", "the campaign ran no experiment")])
    findings, notes = [], []
    for experiment, decision in experiments:
        if decision is None:
            notes.append(
                SectionNote(
                    "experiments", f"experiment {experiment.key} has no stored decision yet"
                )
            )
            continue
        variants = [v.key for v in experiment.design.variants]
        findings.append(
            Finding(
                id=f"experiment-{experiment.key}",
                kind="experiment",
                title=f"Experiment {experiment.key}: {decision.outcome.replace('_', ' ')}",
                detail=decision.explanation,
                evidence={
                    "experiment": experiment.key,
                    "outcome": decision.outcome,
                    "winner": decision.winner,
                    "variants": variants,
                    "decided_at": decision.at.isoformat(),
                },
            )
        )
    return Found(findings, notes)


def budget_moves(
    scope: Scoped, refs: tuple[str, ...], changes: Sequence[BudgetChange], currency: str
) -> Found:
    """Where the applied budget moved between channels, and what each channel's money bought
    (cost per acquisition with its interval) over the campaign."""
    applied = [c for c in changes if c.status == "applied"]
    if len(applied) < 2:
        text = "the budget split was never changed after launch: no moves to judge"
        return Found([], [SectionNote("budget moves", text)])
    first, last = _by_channel(applied[0].split), _by_channel(applied[-1].split)
    rows = metric_rows(scope, ["cost", "cpa"], ["channel"], campaign_refs=refs)
    cpa = {str(r.group["channel"]): r.metrics["cpa"] for r in rows}
    channels: list[dict[str, Any]] = []
    for channel in sorted(first.keys() | last.keys()):
        est = cpa.get(channel)
        channels.append(
            {
                "channel": channel,
                "first_daily": first.get(channel, 0.0),
                "last_daily": last.get(channel, 0.0),
                "change": last.get(channel, 0.0) - first.get(channel, 0.0),
                **(_shown(est.low, est.value, est.high) if est and est.value is not None else {}),
            }
        )
    gained = max(channels, key=lambda c: float(c["change"]))
    lost = min(channels, key=lambda c: float(c["change"]))
    if gained["change"] <= 0:
        text = f"{len(applied) - 1} changes applied, but no channel's daily budget grew"
        return Found([], [SectionNote("budget moves", text)])

    def cost_of(c: dict[str, Any]) -> str:
        if c.get("value") is None:
            return "no conversions measured"
        return (
            f"CPA {c['value']:,.2f} {currency} (95% interval {c.get('low', c['value']):,.2f}"
            f" to {c.get('high', c['value']):,.2f})"
        )

    detail = (
        f"{len(applied) - 1} budget changes moved money toward {gained['channel']} "
        f"({gained['first_daily']:,.2f} → {gained['last_daily']:,.2f} {currency} a day; "
        f"{cost_of(gained)}) and away from {lost['channel']} ({lost['first_daily']:,.2f} → "
        f"{lost['last_daily']:,.2f}; {cost_of(lost)})"
    )
    finding = Finding(
        id="budget-moves",
        kind="budget_move",
        title=f"Budget moved toward {gained['channel']}",
        detail=detail,
        evidence={"changes": len(applied) - 1, "channels": channels},
    )
    return Found([finding], [], ("budget-by-channel", channels))


def _by_channel(split: Mapping[str, Decimal]) -> dict[str, float]:
    """A split's daily amounts summed per channel (unit names start with their channel)."""
    out: dict[str, float] = {}
    for name, amount in split.items():
        channel = name.split("/", 1)[0]
        out[channel] = out.get(channel, 0.0) + float(amount)
    return out
