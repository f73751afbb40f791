"""The analytics facade: metrics by dimension with targets and pacing; funnels, cohorts, paths."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from clarion.analytics import attribution, cohorts, funnels, paths, value
from clarion.analytics.attribution import Attribution
from clarion.analytics.cohorts import Cohort
from clarion.analytics.contracts import CampaignMetrics, CampaignPeople, MetricRow
from clarion.analytics.dictionary import DEFINITIONS
from clarion.analytics.funnels import Funnel, FunnelStep
from clarion.analytics.pacing import check_target, elapsed_share
from clarion.analytics.paths import Label, PathCount
from clarion.analytics.queries import check_request, metric_rows
from clarion.analytics.scope import Scoped, campaign_people, scoped
from clarion.analytics.value import CustomerValue
from clarion.campaigns import service as campaigns
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

# Shown when a request names no metrics: the headline of each family, plus the plan's KPIs.
DEFAULT_METRICS = (
    "cost",
    "impressions",
    "clicks",
    "ctr",
    "conversions",
    "cpa",
    "revenue",
    "roas",
    "sent",
    "open_rate",
    "click_rate",
    "page_views",
    "sessions",
)


def metrics_by(
    events: EventStore,
    workspace_id: str,
    metrics: Sequence[str],
    by: Sequence[str] = (),
    *,
    since: date | None = None,
    until: date | None = None,
) -> list[MetricRow]:
    """Any metric by any dimension over the whole workspace (every campaign and none)."""
    return metric_rows(scoped(events, workspace_id), metrics, by, since=since, until=until)


def campaign_metrics(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    *,
    now: datetime,
    metrics: Sequence[str] = (),
    by: Sequence[str] = (),
    since: date | None = None,
    until: date | None = None,
) -> CampaignMetrics:
    """A campaign's metrics by ``by`` and its KPI targets beside the actuals.

    Facts belong to the campaign when they carry its id or its key (ad platforms' exports
    name campaigns by the key the marketer typed). Targets are judged over the whole
    campaign so far, whatever ``by`` is.
    """
    campaign = campaigns.get_campaign(store, workspace_id, ref)
    targets = [kpi for kpi in campaign.plan.kpis if kpi.metric in DEFINITIONS]
    wanted = list(metrics) or [*DEFAULT_METRICS, *(kpi.metric for kpi in targets)]
    names = check_request(wanted, by)
    refs = (campaign.id, campaign.key)
    scope = scoped(events, workspace_id)
    rows = metric_rows(scope, names, by, campaign_refs=refs, since=since, until=until)
    totals = (
        metric_rows(scope, [k.metric for k in targets], (), campaign_refs=refs) if targets else []
    )
    actual = totals[0].metrics if totals else {}
    elapsed = elapsed_share(campaign.plan.start_date, campaign.plan.end_date, now)
    return CampaignMetrics(
        campaign_id=campaign.id,
        campaign_key=campaign.key,
        by=tuple(by),
        metrics=names,
        since=since,
        until=until,
        elapsed=elapsed,
        rows=rows,
        targets=[check_target(k, actual.get(k.metric), elapsed) for k in campaign.plan.kpis],
    )


def funnel(
    events: EventStore,
    workspace_id: str,
    steps: Sequence[FunnelStep],
    window: timedelta,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Funnel:
    """An ordered funnel over the workspace's people, with drop-off per step and the bottleneck."""
    return funnels.funnel(scoped(events, workspace_id), steps, window, since=since, until=until)


def retention(
    events: EventStore,
    workspace_id: str,
    *,
    weeks: int = 8,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Cohort]:
    """Retention by first-touch week: each cohort's share active in each later week."""
    return cohorts.retention(scoped(events, workspace_id), weeks=weeks, since=since, until=until)


def conversion_paths(
    events: EventStore,
    workspace_id: str,
    *,
    label: Label = "channel",
    max_touches: int = 4,
    top: int = 10,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[PathCount]:
    """The most frequent paths (last touches) to a first conversion."""
    return paths.conversion_paths(
        scoped(events, workspace_id),
        label=label,
        max_touches=max_touches,
        top=top,
        since=since,
        until=until,
    )


def exits(
    events: EventStore,
    workspace_id: str,
    *,
    label: Label = "type",
    max_touches: int = 2,
    top: int = 10,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[PathCount]:
    """Where people who never converted left: the most frequent last touches."""
    return paths.exits(
        scoped(events, workspace_id),
        label=label,
        max_touches=max_touches,
        top=top,
        since=since,
        until=until,
    )


def attribute(
    events: EventStore,
    workspace_id: str,
    *,
    label: Label = "channel",
    lookback: timedelta = timedelta(days=30),
    half_life: timedelta = timedelta(days=7),
    since: datetime | None = None,
    until: datetime | None = None,
) -> Attribution:
    """Credit for conversions under first/last touch, linear, time decay, position, Markov."""
    return attribution.attribute(
        scoped(events, workspace_id),
        label=label,
        lookback=lookback,
        half_life=half_life,
        since=since,
        until=until,
    )


def customer_value(
    events: EventStore,
    workspace_id: str,
    *,
    now: datetime,
    period: timedelta = timedelta(days=7),
    horizon_periods: int = 52,
    discount_rate: float = 0.0,
) -> CustomerValue:
    """Customer lifetime value: BG/NBD and Gamma-Gamma fitted on the workspace's conversions."""
    return value.customer_value(
        scoped(events, workspace_id),
        now=now,
        period=period,
        horizon_periods=horizon_periods,
        discount_rate=discount_rate,
    )


def _campaign_scope(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    *,
    since: datetime | None,
    until: datetime | None,
) -> tuple[CampaignPeople, Scoped]:
    campaign = campaigns.get_campaign(store, workspace_id, ref)
    start = datetime.combine(campaign.plan.start_date, time(0), tzinfo=UTC)
    people = CampaignPeople(campaign.id, campaign.key, since or start, until)
    scope = campaign_people(scoped(events, workspace_id), (campaign.id, campaign.key))
    return people, scope


def campaign_funnel(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    *,
    steps: Sequence[FunnelStep],
    window: timedelta,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[CampaignPeople, Funnel]:
    """The funnel of the campaign's people, from its first day unless ``since`` says otherwise."""
    funnels.check_steps(steps, window)
    people, scope = _campaign_scope(store, events, workspace_id, ref, since=since, until=until)
    return people, funnels.funnel(scope, steps, window, since=people.since, until=until)


def campaign_retention(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    *,
    weeks: int = 8,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[CampaignPeople, list[Cohort]]:
    """Retention of the campaign's people by the week of their first touch since its start."""
    people, scope = _campaign_scope(store, events, workspace_id, ref, since=since, until=until)
    return people, cohorts.retention(scope, weeks=weeks, since=people.since, until=until)


def campaign_paths(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    *,
    label: Label = "channel",
    max_touches: int = 4,
    top: int = 10,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[CampaignPeople, list[PathCount], list[PathCount]]:
    """The campaign's people's paths to a first conversion, and where the others left."""
    people, scope = _campaign_scope(store, events, workspace_id, ref, since=since, until=until)
    found = paths.conversion_paths(
        scope, label=label, max_touches=max_touches, top=top, since=people.since, until=until
    )
    left = paths.exits(
        scope, label=label, max_touches=max_touches, top=top, since=people.since, until=until
    )
    return people, found, left


def campaign_attribution(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    *,
    label: Label = "channel",
    lookback: timedelta = timedelta(days=30),
    half_life: timedelta = timedelta(days=7),
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[CampaignPeople, Attribution]:
    """Credit for the conversions of the campaign's people since its start, under six models."""
    people, scope = _campaign_scope(store, events, workspace_id, ref, since=since, until=until)
    return people, attribution.attribute(
        scope,
        label=label,
        lookback=lookback,
        half_life=half_life,
        since=people.since,
        until=until,
    )
