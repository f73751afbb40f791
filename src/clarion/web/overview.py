"""What a campaign page shows, read from the slices: tiles, trends, funnel, experiments, budget."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Literal

from markupsafe import Markup

from clarion.analytics import service as analytics
from clarion.analytics.contracts import CampaignMetrics, TargetCheck
from clarion.campaigns import service as campaigns
from clarion.campaigns.contracts import Campaign
from clarion.core.metrics import Unit
from clarion.experiments import service as experiments
from clarion.stats.wilson import wilson_interval
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore
from clarion.web import charts
from clarion.web.formats import compact, interval, number, unit_of

TREND_METRICS: Final = ("cost", "clicks", "conversions")
FUNNEL: Final = (
    ("impressions", "Impressions"),
    ("clicks", "Clicks"),
    ("conversions", "Conversions"),
)
SPEND_PACING_BAND: Final = (0.8, 1.2)  # spend outside 80–120% of the plan so far is an alert

Tone = Literal["good", "bad", "unsure", "none"]
TONE: Final[dict[str, Tone]] = {
    "on_track": "good",
    "off_track": "bad",
    "inconclusive": "unsure",
    "no_data": "none",
    "not_measured": "none",
}
STATUS_WORDS: Final = {
    "on_track": "On track",
    "off_track": "Off track",
    "inconclusive": "Inconclusive",
    "no_data": "No data yet",
    "not_measured": "Not measured",
}


@dataclass(frozen=True)
class Tile:
    """One KPI target at a glance: the actual with its interval, the target, pacing, verdict."""

    metric: str
    target: str
    actual: str
    interval: str | None
    expected: str | None
    pacing: str | None
    status: str
    words: str
    tone: Tone
    reason: str


@dataclass(frozen=True)
class Alert:
    """Something that needs a look now, in one sentence."""

    kind: Literal["kpi", "pacing"]
    text: str


@dataclass(frozen=True)
class ExperimentLine:
    """An experiment of the campaign, where it is, and its latest decision if one was made."""

    key: str
    name: str
    state: str
    outcome: str | None
    winner: str | None
    explanation: str | None


@dataclass(frozen=True)
class CampaignPage:
    """Everything the campaign page renders."""

    campaign: Campaign
    elapsed: float
    verdict: Tone
    verdict_words: str
    tiles: list[Tile]
    alerts: list[Alert]
    trends: list[Markup]
    funnel: Markup
    budget: Markup
    experiments: list[ExperimentLine]


def tile(check: TargetCheck, currency: str) -> Tile:
    unit = unit_of(check.metric)
    actual = check.actual
    return Tile(
        metric=check.metric,
        target=check.text,
        actual=number(actual.value if actual else None, unit, currency),
        interval=interval(actual, unit, currency),
        expected=None
        if check.expected_by_now is None
        else number(check.expected_by_now, unit, currency),
        pacing=None if check.pacing is None else f"{check.pacing:.0%}",
        status=check.status,
        words=STATUS_WORDS[check.status],
        tone=TONE[check.status],
        reason=check.reason,
    )


def overall(tiles: list[Tile]) -> tuple[Tone, str]:
    """The page's headline: never better than its least certain target.

    Any target off track makes the campaign off track; otherwise any inconclusive or
    unmeasured target makes it inconclusive; only all targets on track is on track.
    """
    tones = {t.tone for t in tiles}
    if not tiles:
        return "none", "No KPI targets in the plan"
    if "bad" in tones:
        return "bad", "Off track"
    if tones == {"good"}:
        return "good", "On track"
    if tones == {"none"}:
        return "none", "No data yet"
    return "unsure", "Inconclusive so far"


def alerts(result: CampaignMetrics, campaign: Campaign, spent: float | None) -> list[Alert]:
    """KPI targets whose whole interval is on the wrong side, and spend pacing off the plan."""
    found = [
        Alert("kpi", f"{check.text} is off track: {check.reason}.")
        for check in result.targets
        if check.status == "off_track"
    ]
    budget = float(campaign.plan.budget.total)
    planned = budget * result.elapsed
    if spent is not None and planned > 0:
        ratio = spent / planned
        low, high = SPEND_PACING_BAND
        if not low <= ratio <= high:
            direction = "behind" if ratio < low else "ahead of"
            found.append(
                Alert(
                    "pacing",
                    f"Spend is {direction} plan: {spent:,.2f} {campaign.plan.currency} spent, "
                    f"{planned:,.2f} planned by now ({ratio:.0%}).",
                )
            )
    return found


def _trends(result: CampaignMetrics, currency: str) -> list[Markup]:
    out = []
    for name in TREND_METRICS:
        series: dict[str, list[tuple[date, float]]] = {}
        for row in result.rows:
            value = row.metrics[name].value
            day = row.group.get("day", "")
            if value is None or not day or day == "(none)":
                continue
            series.setdefault(row.group.get("channel", "all"), []).append(
                (date.fromisoformat(day[:10]), value)
            )
        unit = unit_of(name)
        title = f"{name.capitalize()} per day by channel" + (
            f" ({currency})" if unit == Unit.MONEY else ""
        )
        out.append(charts.line_chart(title, series, compact))
    return out


def _sums(result: CampaignMetrics, name: str) -> dict[str, float]:
    """A count or money metric summed over the day × channel groups, by channel."""
    by_channel: dict[str, float] = {}
    for row in result.rows:
        value = row.metrics[name].value
        if value is not None:
            channel = row.group.get("channel", "all")
            by_channel[channel] = by_channel.get(channel, 0.0) + value
    return by_channel


def _funnel(result: CampaignMetrics) -> Markup:
    bars, previous = [], None
    for name, label in FUNNEL:
        count = sum(_sums(result, name).values())
        text = f"{count:,.0f}"
        if previous:
            rate = wilson_interval(int(count), int(previous)) if count <= previous else None
            if rate is not None:
                value, low, high = rate
                text += f" · {value:.1%} ({low:.1%}–{high:.1%})"
        bars.append(charts.Bar(label, count, text))
        previous = count
    return charts.bar_chart("Funnel: impressions to conversions", bars)


def _budget(campaign: Campaign, spent: dict[str, float]) -> Markup:
    plan, currency = campaign.plan, campaign.plan.currency
    channels = [*plan.budget.split, *sorted(set(spent) - set(plan.budget.split))]
    bars = []
    for channel in channels:
        planned = plan.budget.split.get(channel)
        used = spent.get(channel, 0.0)
        text = f"{used:,.0f} of {planned:,.0f} {currency}" if planned else f"{used:,.0f} {currency}"
        bars.append(charts.Bar(channel, used, text, float(planned) if planned else None))
    return charts.bar_chart("Spend by channel against the planned split", bars)


def _experiments(store: AppStore, workspace_id: str, campaign: Campaign) -> list[ExperimentLine]:
    lines = []
    for experiment in experiments.list_experiments(store, workspace_id, campaign.id):
        made = experiments.decisions(store, workspace_id, experiment.id)
        last = made[-1] if made else None
        lines.append(
            ExperimentLine(
                key=experiment.key,
                name=experiment.design.name,
                state=experiment.state.value,
                outcome=last.outcome if last else None,
                winner=last.winner if last else None,
                explanation=last.explanation if last else None,
            )
        )
    return lines


def campaign_page(
    store: AppStore, events: EventStore, workspace_id: str, ref: str, now: datetime
) -> CampaignPage:
    """Read everything the campaign page shows, in two event-store queries."""
    campaign = campaigns.get_campaign(store, workspace_id, ref)
    daily = analytics.campaign_metrics(
        store,
        events,
        workspace_id,
        campaign.id,
        now=now,
        metrics=(*TREND_METRICS, "impressions"),
        by=("day", "channel"),
    )
    currency = campaign.plan.currency
    tiles = [tile(check, currency) for check in daily.targets]
    spent_by_channel = _sums(daily, "cost")
    spent = sum(spent_by_channel.values()) if daily.rows else None
    tone, words = overall(tiles)
    return CampaignPage(
        campaign=campaign,
        elapsed=daily.elapsed,
        verdict=tone,
        verdict_words=words,
        tiles=tiles,
        alerts=alerts(daily, campaign, spent),
        trends=_trends(daily, currency),
        funnel=_funnel(daily),
        budget=_budget(campaign, spent_by_channel),
        experiments=_experiments(store, workspace_id, campaign),
    )
