"""`clarion simulate`: rehearse against a simulated market and print truth next to measurement."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from clarion.audiences.persona_store import list_personas
from clarion.auth import service as auth
from clarion.cli.common import with_instance
from clarion.cli.output import console, err_console, print_error, print_json
from clarion.core.errors import ClarionError, InvalidInput
from clarion.instance import Instance
from clarion.simulate.calibrate import Calibration, calibrate
from clarion.simulate.market import Scenario, SimulatedMarket
from clarion.simulate.measure import compare_paid
from clarion.simulate.sandbox import open_sandbox
from clarion.simulate.scenario_file import load_scenario_file

simulate_app = typer.Typer(
    help="Rehearse against a simulated market (without a command: run one in a sandbox and "
    "print the truth next to what Clarion measured), or calibrate one from a workspace's "
    "history.",
    invoke_without_command=True,
)


@simulate_app.callback()
def simulate_command(
    ctx: typer.Context,
    *,
    scenario_file: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            help="A scenario file (YAML): the market, personas, behaviour and paid curves. "
            "--contacts, --days, --seed and --start override its market section.",
        ),
    ] = None,
    contacts: Annotated[
        int | None,
        typer.Option("--contacts", help="Simulated people (1 to 1,000,000; default 2,000)."),
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", help="Simulated days (1 to 366; default 14).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed: the same seed, the same world (default 1).")
    ] = None,
    start: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="First simulated day (UTC; default 2027-03-01)."),
    ] = None,
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
    if ctx.invoked_subcommand is not None:
        return
    if keep is not None and keep.exists() and any(keep.iterdir()):
        err_console.print(f"[bold red]Error:[/] {escape(str(keep))} exists and is not empty")
        raise typer.Exit(1)
    try:
        scenario = _scenario(scenario_file, contacts, days, seed, start)
    except ClarionError as exc:
        print_error(exc)
        raise typer.Exit(1) from None
    workdir = keep or Path(tempfile.mkdtemp(prefix="clarion-simulate-"))
    try:
        box = open_sandbox(workdir / "data", start=scenario.start, seed=scenario.seed)
        try:
            market = SimulatedMarket(
                box.instance,
                box.clock,
                scenario,
                workspace_id=box.workspace_id,
                keys=box.keys,
                workdir=workdir,
                server_process=True,  # the server gets a core of its own (decision 0043)
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
    table = Table(
        title=f"{scenario.contacts:,} contacts, {scenario.days} days, seed {scenario.seed}"
    )
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


@simulate_app.command("calibrate")
def calibrate_command(
    *,
    out: Annotated[
        Path, typer.Option("--out", help="The scenario file to write (a new file, YAML).")
    ],
    base: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            help="A scenario file for what calibration does not fit (interest and price "
            "effects, in-window and fatigue effects, variant lifts, funnel to checkout, "
            "length and seed). Default: the simulator's own.",
        ),
    ] = None,
    workspace: Annotated[
        str, typer.Option("--workspace", "-w", help="Workspace key.")
    ] = auth.DEFAULT_WORKSPACE,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Fit a scenario file from a workspace's history: a market like yours to rehearse against.

    Per persona: open, click and purchase rates (machine opens excluded) and order values;
    activity hours; each paid unit's response curve. Each with its 95% interval in the file.
    """
    if out.exists():
        err_console.print(f"[bold red]Error:[/] {escape(str(out))} exists: name a new file")
        raise typer.Exit(1)

    def work(instance: Instance) -> Calibration:
        events = instance.open_events()  # StoreBusy while `clarion serve` holds the file
        space = instance.workspace(workspace)
        return calibrate(
            events,
            space.id,
            now=instance.clock.now(),
            workspace=workspace,
            personas=[p.persona for p in list_personas(instance.store, space.id)],
            base=load_scenario_file(base) if base is not None else None,
        )

    try:
        found = with_instance(work)
        with out.open("x", encoding="utf-8") as file:
            file.write(found.to_yaml())
    except ClarionError as exc:
        print_error(exc)
        raise typer.Exit(1) from None
    except OSError as exc:
        err_console.print(f"[bold red]Error:[/] {escape(str(out))}: {escape(str(exc.strerror))}")
        raise typer.Exit(1) from None
    if as_json:
        print_json(
            {
                "out": str(out),
                "estimates": {name: e.as_data() for name, e in found.estimates.items()},
                "notes": list(found.notes),
            }
        )
        return
    table = Table(title=f"Calibrated from workspace {escape(workspace)} → {escape(str(out))}")
    for column in ("parameter", "value", "95% interval", "n"):
        table.add_column(column, justify="left" if column == "parameter" else "right")
    for name, estimate in found.estimates.items():
        table.add_row(
            escape(name),
            f"{estimate.value:.4g}",
            f"{estimate.low:.4g} – {estimate.high:.4g}",
            f"{estimate.n:,}",
        )
    console.print(table)
    for note in found.notes:
        console.print(f"note: {escape(note)}")


def _scenario(
    path: Path | None,
    contacts: int | None,
    days: int | None,
    seed: int | None,
    start: datetime | None,
) -> Scenario:
    """The scenario file's (or the default) scenario, with the options given on top."""
    base = (
        load_scenario_file(path)
        if path is not None
        else Scenario(contacts=2_000, days=14, seed=1, start=datetime(2027, 3, 1, tzinfo=UTC))
    )
    given = {"contacts": contacts, "days": days, "seed": seed}
    changes: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    if start is not None:
        changes["start"] = start.replace(tzinfo=UTC)
    scenario = replace(base, **changes)
    problems = scenario.problems()
    if problems:
        first = problems[0]
        raise InvalidInput(f"scenario: {first.path} {first.problem}", problems)
    return scenario


def _progress(done: int, total: int) -> None:
    err_console.print(f"day {done}/{total}", end="\r")
