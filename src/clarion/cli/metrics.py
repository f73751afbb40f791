"""`clarion metrics CAMPAIGN`: a campaign's metrics by dimension, with KPI targets and pacing;
the group also holds funnels, cohorts, paths, attribution and CLV (``cli/analysis.py``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from clarion.analytics import service
from clarion.analytics.contracts import CampaignMetrics, Estimate
from clarion.analytics.dictionary import DEFINITIONS
from clarion.analytics.render import campaign_metrics_json
from clarion.auth import service as auth
from clarion.cli import analysis
from clarion.cli.common import with_instance
from clarion.cli.output import console, print_json
from clarion.core.metrics import Unit
from clarion.instance import Instance

STATUS_STYLE = {
    "on_track": "green",
    "off_track": "red",
    "inconclusive": "yellow",
    "no_data": "dim",
    "not_measured": "dim",
}


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _shown(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    unit = DEFINITIONS[name].unit if name in DEFINITIONS else Unit.RATIO
    if unit is Unit.RATE:
        return f"{value:.2%}"
    if unit is Unit.COUNT:
        return f"{value:,.0f}"
    if unit is Unit.SECONDS:
        return f"{value:,.0f} s"
    return f"{value:,.2f}"


def _with_interval(name: str, estimate: Estimate | None) -> str:
    if estimate is None or estimate.value is None:
        return "—"
    if estimate.low is None or estimate.high is None or estimate.low == estimate.high:
        return _shown(name, estimate.value)
    low, high = _shown(name, estimate.low), _shown(name, estimate.high)
    return f"{_shown(name, estimate.value)} [dim]({low}–{high})[/]"


def _tables(result: CampaignMetrics) -> list[Table]:
    rows = Table(title=f"{result.campaign_key}: metrics (95% intervals)", title_justify="left")
    for dimension in result.by:
        rows.add_column(dimension)
    for name in result.metrics:
        rows.add_column(name, justify="right")
    for row in result.rows:
        rows.add_row(
            *(escape(row.group[d]) for d in result.by),
            *(_with_interval(n, row.metrics.get(n)) for n in result.metrics),
        )
    targets = Table(
        title=f"KPI targets ({result.elapsed:.0%} of the campaign elapsed)", title_justify="left"
    )
    for column in ("target", "expected by now", "actual", "pacing", "status"):
        targets.add_column(column, justify="left" if column in ("target", "status") else "right")
    for check in result.targets:
        style = STATUS_STYLE[check.status]
        targets.add_row(
            escape(check.text),
            _shown(check.metric, check.expected_by_now),
            _with_interval(check.metric, check.actual),
            "—" if check.pacing is None else f"{check.pacing:.0%}",
            f"[{style}]{check.status.replace('_', ' ')}[/] [dim]{escape(check.reason)}[/]",
        )
    return [rows, targets] if result.targets else [rows]


def metrics_command(
    campaign: Annotated[str, typer.Argument(help="Campaign key or id.")],
    *,
    by: Annotated[
        str,
        typer.Option(
            help="Dimensions, comma-separated: campaign, channel, ad_set, segment,"
            " persona, variant, creative, day, week."
        ),
    ] = "",
    metric: Annotated[
        str, typer.Option(help="Metrics, comma-separated (default: a headline set + the KPIs).")
    ] = "",
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day counted (UTC).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day counted (UTC).")
    ] = None,
    workspace: Annotated[
        str, typer.Option("--workspace", "-w", help="Workspace key.")
    ] = auth.DEFAULT_WORKSPACE,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Show a campaign's metrics by dimension, with its KPI targets, pacing and verdicts."""

    def work(instance: Instance) -> CampaignMetrics:
        events = instance.open_events()  # StoreBusy while `clarion serve` holds the file
        return service.campaign_metrics(
            instance.store,
            events,
            instance.workspace(workspace).id,
            campaign,
            now=instance.clock.now(),
            metrics=_names(metric),
            by=_names(by),
            since=_day(since),
            until=_day(until),
        )

    result = with_instance(work)
    if as_json:
        print_json(campaign_metrics_json(result))
        return
    for table in _tables(result):
        console.print(table)


def _day(value: datetime | None) -> date | None:
    return None if value is None else value.date()


class CampaignFirst(TyperGroup):
    """`clarion metrics CAMPAIGN ...` means `clarion metrics show CAMPAIGN ...`.

    A first word that names no subcommand (and is not --help) is a campaign, so the
    campaign table keeps its short form; a campaign keyed like a subcommand needs `show`.
    """

    # ``ctx`` is Typer's own Click context type, which Typer does not export.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


metrics_app = typer.Typer(
    cls=CampaignFirst,
    help="Measure: a campaign's metrics (clarion metrics CAMPAIGN), funnels, cohorts, paths,"
    " attribution and customer lifetime value.",
    no_args_is_help=True,
)
metrics_app.command("show")(metrics_command)
metrics_app.command("funnel")(analysis.funnel_command)
metrics_app.command("cohorts")(analysis.cohorts_command)
metrics_app.command("paths")(analysis.paths_command)
metrics_app.command("attribution")(analysis.attribution_command)
metrics_app.command("clv")(analysis.clv_command)
