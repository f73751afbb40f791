"""`clarion metrics funnel|cohorts|paths|attribution|clv`: journeys and value as Rich tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from clarion.analytics import service
from clarion.analytics.attribution import MODELS
from clarion.analytics.parameters import parse_span, parse_steps
from clarion.analytics.paths import Label
from clarion.analytics.render_journeys import (
    attribution_json,
    clv_json,
    cohorts_json,
    funnel_json,
    paths_json,
    people_json,
)
from clarion.auth import service as auth
from clarion.cli.common import with_instance
from clarion.cli.output import console, print_json
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.instance import Instance

CampaignArg = Annotated[str, typer.Argument(help="Campaign key or id.")]
WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace key.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
SinceOpt = Annotated[
    datetime | None,
    typer.Option(
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
        help="First instant counted (UTC); default the campaign's first day.",
    ),
]
UntilOpt = Annotated[
    datetime | None,
    typer.Option(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"], help="Instant counting stops (UTC)."),
]
LabelOpt = Annotated[
    str, typer.Option(help="What a touch is labelled by: channel, type, referrer_kind, utm_source.")
]


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def _label(text: str) -> Label:
    if text not in ("channel", "type", "referrer_kind", "utm_source"):
        problem = FieldProblem("label", "one of channel, type, referrer_kind, utm_source")
        raise InvalidInput(f"invalid label: {problem.problem}", [problem])
    return text  # type: ignore[return-value]  # checked just above


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _interval(rate: float | None, low: float | None, high: float | None) -> str:
    if rate is None:
        return "—"
    return f"{rate:.1%} [dim]({_rate(low)}–{_rate(high)})[/]"


def _title(body: dict[str, Any], what: str) -> str:
    since = body["since"] or "the start"
    until = f" to {body['until']}" if body["until"] else ""
    return f"{body['campaign']['key']}: {what} (people of the campaign, from {since}{until})"


def funnel_command(
    campaign: CampaignArg,
    *,
    steps: Annotated[
        str,
        typer.Option(
            help="Event types in order, comma-separated; type~text keeps URLs containing text,"
            " e.g. page_view~/pricing,signup,checkout,conversion."
        ),
    ],
    window: Annotated[
        str, typer.Option(help="Conversion window from step 1: 30m, 12h, 7d.")
    ] = "7d",
    since: SinceOpt = None,
    until: UntilOpt = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """A campaign's ordered funnel: people per step, drop-off, rate and the bottleneck."""
    parsed, span = parse_steps(steps), parse_span(window, "window")

    def work(instance: Instance) -> dict[str, Any]:
        people, found = service.campaign_funnel(
            instance.store,
            instance.open_events(),
            instance.workspace(workspace).id,
            campaign,
            steps=parsed,
            window=span,
            since=_utc(since),
            until=_utc(until),
        )
        return {**people_json(people), **funnel_json(found)}

    body = with_instance(work)
    if as_json:
        print_json(body)
        return
    table = Table(title=_title(body, f"funnel, {window} window"), title_justify="left")
    for column in ("#", "step", "people", "dropped", "rate from the step before (95%)"):
        table.add_column(column, justify="left" if column == "step" else "right")
    bottleneck = (body["bottleneck"] or {}).get("index")
    for index, step in enumerate(body["steps"]):
        mark = " [red]← bottleneck[/]" if index == bottleneck else ""
        table.add_row(
            str(index + 1),
            escape(step["step"]) + mark,
            f"{step['reached']:,}",
            f"{step['dropped']:,}",
            _interval(step["rate"], step["low"], step["high"]),
        )
    console.print(table)


def cohorts_command(
    campaign: CampaignArg,
    *,
    weeks: Annotated[int, typer.Option(help="Weeks shown after the first one (0-104).")] = 8,
    since: SinceOpt = None,
    until: UntilOpt = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Retention of a campaign's people by week of first touch (share active each week)."""

    def work(instance: Instance) -> dict[str, Any]:
        people, found = service.campaign_retention(
            instance.store,
            instance.open_events(),
            instance.workspace(workspace).id,
            campaign,
            weeks=weeks,
            since=_utc(since),
            until=_utc(until),
        )
        return {**people_json(people), **cohorts_json(found)}

    body = with_instance(work)
    if as_json:
        print_json(body)
        return
    table = Table(title=_title(body, "retention by first-touch week"), title_justify="left")
    table.add_column("cohort (Monday)")
    table.add_column("people", justify="right")
    for offset in range(1, weeks + 1):
        table.add_column(f"w{offset}", justify="right")
    for cohort in body["cohorts"]:
        rates = {cell["offset"]: cell["rate"] for cell in cohort["retention"]}
        table.add_row(
            cohort["week"],
            f"{cohort['size']:,}",
            *(_rate(rates.get(offset, 0.0)) for offset in range(1, weeks + 1)),
        )
    console.print(table)


def _path_table(title: str, found: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("path")
    table.add_column("people", justify="right")
    table.add_column("share (95%)", justify="right")
    for row in found:
        table.add_row(
            escape(" > ".join(row["path"])),
            f"{row['people']:,}",
            _interval(row["share"], row["low"], row["high"]),
        )
    return table


def paths_command(
    campaign: CampaignArg,
    *,
    label: LabelOpt = "channel",
    max_touches: Annotated[int, typer.Option(help="Last touches kept per path (1-20).")] = 4,
    top: Annotated[int, typer.Option(help="Most frequent paths shown (1-1000).")] = 10,
    since: SinceOpt = None,
    until: UntilOpt = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """A campaign's most frequent paths to conversion, and where the others left (exits)."""
    chosen = _label(label)

    def work(instance: Instance) -> dict[str, Any]:
        people, found, left = service.campaign_paths(
            instance.store,
            instance.open_events(),
            instance.workspace(workspace).id,
            campaign,
            label=chosen,
            max_touches=max_touches,
            top=top,
            since=_utc(since),
            until=_utc(until),
        )
        return {**people_json(people), **paths_json(found, left)}

    body = with_instance(work)
    if as_json:
        print_json(body)
        return
    console.print(_path_table(_title(body, f"paths to conversion by {label}"), body["paths"]))
    console.print(_path_table("Exits: last touches of people who never converted", body["exits"]))


def attribution_command(
    campaign: CampaignArg,
    *,
    model: Annotated[str, typer.Option(help=f"all, or one of: {', '.join(MODELS)}.")] = "all",
    label: LabelOpt = "channel",
    lookback: Annotated[str, typer.Option(help="Touches counted before a conversion.")] = "30d",
    half_life: Annotated[
        str, typer.Option(help="Time decay: a touch's weight halves each.")
    ] = "7d",
    since: SinceOpt = None,
    until: UntilOpt = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Credit for a campaign's conversions per label under six attribution models."""
    if model != "all" and model not in MODELS:
        problem = FieldProblem("model", f"all, or one of {', '.join(MODELS)}")
        raise InvalidInput(f"invalid attribution: model: {problem.problem}", [problem])
    chosen = _label(label)
    spans = parse_span(lookback, "lookback"), parse_span(half_life, "half_life")
    models = list(MODELS) if model == "all" else [model]

    def work(instance: Instance) -> dict[str, Any]:
        people, found = service.campaign_attribution(
            instance.store,
            instance.open_events(),
            instance.workspace(workspace).id,
            campaign,
            label=chosen,
            lookback=spans[0],
            half_life=spans[1],
            since=_utc(since),
            until=_utc(until),
        )
        return {**people_json(people), **attribution_json(found, models)}

    body = with_instance(work)
    if as_json:
        print_json(body)
        return
    console.print(_attribution_table(body, models, label))


def _attribution_table(body: dict[str, Any], models: Sequence[str], label: str) -> Table:
    title = _title(body, f"{body['conversions']:,} conversions credited by {label}")
    table = Table(title=title, title_justify="left")
    table.add_column(label)
    for model in models:
        table.add_column(model, justify="right")
    credits: dict[str, dict[str, float]] = {}
    for model in models:
        for credit in body["models"][model]:
            credits.setdefault(credit["label"], {})[model] = credit["conversions"]
    first = models[0]
    for name in sorted(credits, key=lambda n: (-credits[n].get(first, 0.0), n)):
        table.add_row(escape(name), *(f"{credits[name].get(m, 0.0):,.1f}" for m in models))
    return table


def clv_command(
    *,
    period: Annotated[str, typer.Option(help="The models' time unit, e.g. 7d (a week).")] = "7d",
    horizon: Annotated[int, typer.Option(help="Periods valued ahead (1-520).")] = 52,
    discount_rate: Annotated[float, typer.Option(help="Discount per period, 0 to 1.")] = 0.0,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Customer lifetime value of the workspace: BG/NBD and Gamma-Gamma fitted on conversions."""
    span = parse_span(period, "period")
    problems = []
    if not 1 <= horizon <= 520:
        problems.append(FieldProblem("horizon", "between 1 and 520 periods"))
    if not 0.0 <= discount_rate <= 1.0:
        problems.append(FieldProblem("discount_rate", "between 0 and 1"))
    if problems:
        raise InvalidInput(
            f"invalid CLV request: {problems[0].path}: {problems[0].problem}", problems
        )

    def work(instance: Instance) -> dict[str, Any]:
        result = service.customer_value(
            instance.open_events(),
            instance.workspace(workspace).id,
            now=instance.clock.now(),
            period=span,
            horizon_periods=horizon,
            discount_rate=discount_rate,
        )
        return clv_json(result)

    body = with_instance(work)
    if as_json:
        print_json(body)
        return
    head = Table(
        title=f"Customer lifetime value over {horizon} periods of {period}", title_justify="left"
    )
    for column in ("customers", "mean value (95%)", "total value"):
        head.add_column(column, justify="right")
    head.add_row(
        f"{body['customers']:,}",
        f"{body['mean_value']:,.2f} [dim]({body['low']:,.2f}–{body['high']:,.2f})[/]",
        f"{body['total_value']:,.2f}",
    )
    console.print(head)
    fits = Table(title="Fitted models (± standard error)", title_justify="left")
    for column in ("model", "parameter", "estimate"):
        fits.add_column(column, justify="right" if column == "estimate" else "left")
    for model in ("bgnbd", "gamma_gamma"):
        fit = body[model]
        for name, value in fit["params"].items():
            error = fit["std_errors"].get(name)
            shown = f"{value:.4g}" + ("" if error is None else f" ± {error:.2g}")
            fits.add_row(model, name, shown)
    console.print(fits)
