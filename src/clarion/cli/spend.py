"""`clarion spend`: import ad platforms' spend exports, with progress and a summary."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from clarion.auth import service as auth
from clarion.campaigns import service as campaigns
from clarion.cli.common import cli_settings
from clarion.cli.output import FileProgress, console, err_console, print_json
from clarion.instance import open_instance
from clarion.tracking.spend import ImportReport, SpendFile, import_spend

spend_app = typer.Typer(
    help="Ad spend: import the CSV exports of ad platforms (see docs/spend-import.md).",
    no_args_is_help=True,
)


class SpendFormat(StrEnum):
    """The layouts ``--format`` accepts."""

    auto = "auto"
    generic = "generic"
    google_ads = "google_ads"
    meta_ads = "meta_ads"


@spend_app.command("import")
def spend_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="A spend CSV: Clarion's generic layout, a Google Ads report or a Meta Ads "
            "Manager export. Rejected rows are explained in FILE.errors.csv."
        ),
    ],
    *,
    file_format: Annotated[
        SpendFormat,
        typer.Option("--format", help="The file's layout; auto tells it from the header."),
    ] = SpendFormat.auto,
    channel: Annotated[
        str | None,
        typer.Option(
            help="Channel of rows that name none (default: search for google_ads, "
            "social for meta_ads)."
        ),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(help="Currency of rows whose file names none (ISO 4217, e.g. EUR)."),
    ] = None,
    workspace: Annotated[
        str, typer.Option("--workspace", "-w", help="Workspace key.")
    ] = auth.DEFAULT_WORKSPACE,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Import ad spend from a CSV file; importing it again replaces what it reported.

    Exits 1 when some rows were rejected (the others are imported).
    """
    path = file.expanduser().resolve()
    with SpendFile(path, file_format.value):  # the file's shape is checked before any store
        pass
    instance = open_instance(cli_settings())
    try:
        events = instance.open_events()  # StoreBusy while `clarion serve` holds the file
        events.create_schema()
        workspace_id = instance.workspace(workspace).id
        keys = {c.key: c.id for c in campaigns.list_campaigns(instance.store, workspace_id)}
        with FileProgress(path, path.stat().st_size) as update:
            report = import_spend(
                events,
                path,
                workspace_id=workspace_id,
                clock=instance.clock,
                layout=file_format.value,
                channel=channel,
                currency=currency,
                campaign_ids=keys,
                on_progress=update,
            )
    finally:
        instance.close()
    if as_json:
        print_json(report.as_dict())
    else:
        console.print(summary_table(report, path))
    if report.rows_rejected:
        _print_rejections(report)
        raise typer.Exit(1)


def summary_table(report: ImportReport, path: Path) -> Table:
    """What the import did, as a two-column table."""
    table = Table(title="Spend import", title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("file", escape(str(path)))
    table.add_row("layout", report.layout)
    table.add_row("rows", _rows_text(report))
    if report.first_day is not None:
        span = f"{report.first_day} → {report.last_day} ({report.days} days with spend)"
        table.add_row("days", span)
    for code, total in report.cost_by_currency.items():
        table.add_row(f"cost {code}", f"{total:,}")
    if report.ignored_columns:
        table.add_row("ignored columns", escape(", ".join(report.ignored_columns)))
    if report.errors_path is not None:
        table.add_row("error report", escape(str(report.errors_path)))
    table.add_row("source", escape(report.source))
    return table


def _rows_text(report: ImportReport) -> str:
    parts = [f"{report.rows_imported:,} imported"]
    if report.rows_rejected:
        parts.append(f"[red]{report.rows_rejected:,} rejected[/]")
    if report.rows_skipped:
        parts.append(f"{report.rows_skipped:,} skipped (blank or totals)")
    return f"{report.rows_read:,} read: " + ", ".join(parts)


def _print_rejections(report: ImportReport) -> None:
    rows = "row" if report.rows_rejected == 1 else "rows"
    err_console.print(
        f"[bold red]{report.rows_rejected:,} {rows} rejected[/]; each problem is listed in "
        f"{escape(str(report.errors_path))}"
    )
    for p in report.problems:
        err_console.print(f"  - row {p.row}, {escape(p.field)}: {escape(p.problem)}")
