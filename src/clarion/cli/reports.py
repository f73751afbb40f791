"""`clarion report CAMPAIGN`: the post-campaign report as HTML, PDF or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clarion.auth import service as auth
from clarion.cli.common import with_instance
from clarion.cli.output import console
from clarion.instance import Instance
from clarion.reports.contracts import Report
from clarion.reports.service import Format, rendered, report_and_learn


def report_command(
    campaign: Annotated[str, typer.Argument(help="Campaign key or id.")],
    *,
    format: Annotated[
        str, typer.Option("--format", "-f", help="Output format: html, pdf or json.")
    ] = "html",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write (default: standard output).")
    ] = None,
    workspace: Annotated[
        str, typer.Option("--workspace", "-w", help="Workspace key.")
    ] = auth.DEFAULT_WORKSPACE,
) -> None:
    """Write a campaign's report from its stored facts and keep its learnings in the log."""
    if format not in ("html", "pdf", "json"):
        raise typer.BadParameter(f"{format[:20]!r}: use html, pdf or json", param_hint="--format")
    chosen: Format = format  # type: ignore[assignment]
    if chosen == "pdf" and out is None:
        raise typer.BadParameter("a PDF needs --out FILE", param_hint="--out")

    def work(instance: Instance) -> Report:
        events = instance.open_events()  # StoreBusy while `clarion serve` holds the file
        return report_and_learn(
            instance.store,
            events,
            instance.workspace(workspace).id,
            campaign,
            clock=instance.clock,
            ids=instance.ids,
        )

    report = with_instance(work)
    data = rendered(report, chosen)
    if out is None:
        console.out(data.decode(), highlight=False)
        return
    out.write_bytes(data)
    console.print(
        f"Wrote {out} ({len(data):,} bytes): {len(report.findings)} findings,"
        f" {len(report.recommendations)} recommendations, {len(report.learnings)} learnings"
    )
