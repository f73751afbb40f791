"""Assemble a campaign's report from the app store and the event store; nothing is typed in."""

from __future__ import annotations

from datetime import datetime

from clarion.analytics import service as analytics
from clarion.analytics.scope import scoped
from clarion.campaigns import service as campaigns
from clarion.experiments import service as experiments
from clarion.experiments.contracts import Experiment, StoredDecision
from clarion.optimize import service as budget
from clarion.reports import findings as finders
from clarion.reports.contracts import Report
from clarion.reports.facts import hypothesis_result, kpi_result
from clarion.reports.recommend import learnings, recommendations
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore


def build_report(
    store: AppStore, events: EventStore, workspace_id: str, ref: str, *, now: datetime
) -> Report:
    """The report of campaign ``ref`` (id or key) from the facts stored up to ``now``."""
    campaign = campaigns.get_campaign(store, workspace_id, ref)
    plan = campaign.plan
    measured = analytics.campaign_metrics(
        store, events, workspace_id, campaign.id, now=now, metrics=["sent"]
    )
    refs = (campaign.id, campaign.key)
    scope = scoped(events, workspace_id)
    days = (plan.end_date - plan.start_date).days + 1
    metric = finders.ranking_metric(plan)
    found = [
        *(finders.best_and_worst(scope, refs, metric, d) for d in finders.RANKED_DIMENSIONS),
        finders.bottleneck(scope, refs, until=now, days=days),
        finders.pacing(measured.targets, measured.elapsed),
        finders.bounce_spikes(scope, refs),
        finders.experiment_outcomes(_experiments(store, workspace_id, campaign.id)),
        finders.budget_moves(
            scope, refs, budget.history(store, workspace_id, campaign.id), plan.currency
        ),
    ]
    findings = [f for part in found for f in part.findings]
    hypotheses = [hypothesis_result(scope, refs, h) for h in plan.hypotheses]
    return Report(
        campaign_id=campaign.id,
        campaign_key=campaign.key,
        name=campaign.name,
        objective=plan.objective,
        state=str(campaign.state),
        start_date=plan.start_date,
        end_date=plan.end_date,
        currency=plan.currency,
        budget_total=float(plan.budget.total),
        generated_at=now,
        elapsed=measured.elapsed,
        kpis=[kpi_result(t) for t in measured.targets],
        hypotheses=hypotheses,
        findings=findings,
        recommendations=recommendations(findings),
        learnings=learnings(findings, hypotheses),
        notes=[n for part in found for n in part.notes],
        charts=dict(part.chart for part in found if part.chart is not None),
    )


def _experiments(
    store: AppStore, workspace_id: str, campaign_id: str
) -> list[tuple[Experiment, StoredDecision | None]]:
    out = []
    for experiment in experiments.list_experiments(store, workspace_id, campaign_id):
        stored = experiments.decisions(store, workspace_id, experiment.id)
        out.append((experiment, stored[-1] if stored else None))
    return out
