"""`clarion simulate`: rehearse against a simulated market and print truth next to measurement."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from clarion.cli.output import console, err_console, print_error, print_json
from clarion.core.errors import ClarionError
from clarion.simulate.market import Scenario, SimulatedMarket
from clarion.simulate.measure import compare_paid
from clarion.simulate.sandbox import open_sandbox


def simulate_command(
    *,
    contacts: Annotated[
        int, typer.Option("--contacts", help="Simulated people (1 to 1,000,000).")
    ] = 2_000,
    days: Annotated[int, typer.Option("--days", help="Simulated days (1 to 366).")] = 14,
    seed: Annotated[int, typer.Option("--seed", help="Seed: the same seed, the same world.")] = 1,
    start: Annotated[
        datetime,
        typer.Option(formats=["%Y-%m-%d"], help="First simulated day (UTC)."),
    ] = datetime(2027, 3, 1),
    keep: Annotated[
        Path | None,
        typer.Option(
            "--keep",
            help="Keep the rehearsal installation in this new directory (default: a temporary "
            "one, removed afterwards). Open it with CLARION_DATA_DIR to explore the events.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Run a simulated market through Clarion's real edges and print the truth it knew next to
    what Clarion measured. Runs in its own sandbox installation, never in your workspace."""
    if keep is not None and keep.exists() and any(keep.iterdir()):
        err_console.print(f"[bold red]Error:[/] {escape(str(keep))} exists and is not empty")
        raise typer.Exit(1)
    workdir = keep or Path(tempfile.mkdtemp(prefix="clarion-simulate-"))
    began = start.replace(tzinfo=UTC)
    try:
        scenario = Scenario(contacts=contacts, days=days, seed=seed, start=began)
        box = open_sandbox(workdir / "data", start=began, seed=seed)
        try:
            market = SimulatedMarket(
                box.instance,
                box.clock,
                scenario,
                workspace_id=box.workspace_id,
                keys=box.keys,
                workdir=workdir,
            )
            ledger = market.run(on_progress=_progress)
            assert box.instance.events is not None
            rates = ledger.compare(box.instance.events, box.workspace_id, scenario.campaign_id)
            paid = compare_paid(ledger, box.instance.events, box.workspace_id)
        finally:
            box.instance.close()
    except ClarionError as exc:
        print_error(exc)
        raise typer.Exit(1) from None
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if as_json:
        print_json({"rates": [r.as_dict() for r in rates], "paid": [p.as_dict() for p in paid]})
        return
    table = Table(title=f"{contacts:,} contacts, {days} days, seed {seed}")
    for column in ("metric", "truth", "measured", "95% interval", "n", "holds truth"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for row in rates:
        table.add_row(
            escape(row.metric),
            f"{row.truth:.2%}",
            "-" if row.measured is None else f"{row.measured:.2%}",
            "-" if row.low is None or row.high is None else f"{row.low:.2%} – {row.high:.2%}",
            f"{row.trials:,}",
            {True: "yes", False: "no", None: "-"}[row.covered],
        )
    console.print(table)
    units = Table(title="Paid units: true steady-state CPA vs reported CPA")
    for column in ("channel", "ad set", "true CPA", "reported CPA", "cost", "conversions"):
        units.add_column(column, justify="left" if column in ("channel", "ad set") else "right")
    for unit in paid:
        units.add_row(
            escape(unit.channel),
            escape(unit.ad_set),
            f"{unit.true_cpa:,.2f}",
            "-" if unit.measured_cpa is None else f"{unit.measured_cpa:,.2f}",
            f"{unit.cost:,.2f}",
            f"{unit.conversions:,}",
        )
    console.print(units)


def _progress(done: int, total: int) -> None:
    err_console.print(f"day {done}/{total}", end="\r")
