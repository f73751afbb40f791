"""`clarion budget`: units, current split, recommended split, apply, revert and history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from clarion.auth import service as auth
from clarion.cli.common import cli_actor, with_instance
from clarion.cli.output import console, print_json
from clarion.instance import Instance
from clarion.optimize import service
from clarion.optimize.contracts import BudgetChange
from clarion.optimize.files import load_budget_file
from clarion.optimize.serialise import change_json, recommendation_json, state_json

budget_app = typer.Typer(
    help="Budget reallocation: move money to the units where the next euro works hardest."
)

CampaignArg = Annotated[str, typer.Argument(help="Campaign id or key.")]
ChangeArg = Annotated[str, typer.Argument(help="Budget change id (see 'clarion budget history').")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace key.")]


def _split_table(title: str, change: BudgetChange) -> Table:
    table = Table(title=title)
    table.add_column("unit")
    table.add_column("daily budget", justify="right")
    for unit, amount in sorted(change.split.items()):
        table.add_row(escape(unit), str(amount))
    return table


@budget_app.command("units")
def budget_units(
    campaign: CampaignArg,
    file: Annotated[Path, typer.Argument(help="A budget file: units and optional policy.")],
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Declare the campaign's allocation units (and policy) from a YAML or JSON file."""
    spec = load_budget_file(file)  # validate before touching any store

    def work(instance: Instance) -> None:
        ws = instance.workspace(workspace).id
        state = service.set_units(
            instance.store, ws, campaign, spec.units, clock=instance.clock, ids=instance.ids
        )
        if spec.policy is not None:
            state = service.set_policy(
                instance.store, ws, campaign, spec.policy, clock=instance.clock, actor=cli_actor()
            )
        if as_json:
            print_json(state_json(state))
            return
        console.print(f"{len(state.units)} allocation unit(s), mode {state.policy.mode}")

    with_instance(work)


@budget_app.command("show")
def budget_show(
    campaign: CampaignArg,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """The budget: total, dates, units and their bounds, and the split now applied."""

    def work(instance: Instance) -> None:
        state = service.budget_state(instance.store, instance.workspace(workspace).id, campaign)
        if as_json:
            print_json(state_json(state))
            return
        console.print(
            f"Total {state.total} {state.currency}, {state.start_date} to {state.end_date}, "
            f"objective {state.policy.objective}, mode {state.policy.mode}"
        )
        table = Table()
        for column in ("unit", "min/day", "max/day", "current/day"):
            table.add_column(column)
        current = state.current.split if state.current else {}
        for unit in state.units:
            now = current.get(unit.name)
            table.add_row(
                escape(unit.name), str(unit.min_daily), str(unit.max_daily), str(now or "-")
            )
        console.print(table)

    with_instance(work)


@budget_app.command("recommend")
def budget_recommend(
    campaign: CampaignArg,
    seed: Annotated[int | None, typer.Option(help="Seed for a reproducible draw.")] = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Recommend tomorrow's split from the data so far (auto mode applies it at once)."""

    def work(instance: Instance) -> None:
        ws = instance.workspace(workspace).id
        events = instance.open_events()  # StoreBusy while `clarion serve` holds the file
        seen = service.observed(instance.store, events, ws, campaign, now=instance.clock.now())
        change, rec = service.recommend(
            instance.store,
            ws,
            campaign,
            seen,
            clock=instance.clock,
            ids=instance.ids,
            rng=np.random.default_rng(seed),
            actor=cli_actor(),
        )
        if as_json:
            print_json(recommendation_json(change, rec))
            return
        console.print(_split_table(f"Change {change.id} ({change.status})", change))
        if rec.expected is not None:
            e = rec.expected
            console.print(
                f"Expected {e.results_per_day:.1f} results/day (90%: {e.low:.1f} to "
                f"{e.high:.1f}); {e.change_vs_current:+.1f} vs current "
                f"(90%: {e.change_low:+.1f} to {e.change_high:+.1f})"
            )
        for note in rec.notes:
            console.print(f"note: {escape(note)}")
        for alert in rec.alerts:
            console.print(f"[bold red]alert[/]: {escape(alert.message)}")

    with_instance(work)


@budget_app.command("apply")
def budget_apply(
    campaign: CampaignArg,
    change: ChangeArg,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Approve a recommended split: it becomes the current one."""

    def work(instance: Instance) -> None:
        applied = service.apply(
            instance.store,
            instance.workspace(workspace).id,
            campaign,
            change,
            clock=instance.clock,
            actor=cli_actor(),
        )
        if as_json:
            print_json(change_json(applied))
            return
        console.print(f"Applied {applied.id}")

    with_instance(work)


@budget_app.command("revert")
def budget_revert(
    campaign: CampaignArg,
    change: ChangeArg,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Undo an applied change: the split before it is applied again, and logged."""

    def work(instance: Instance) -> None:
        undone = service.revert(
            instance.store,
            instance.workspace(workspace).id,
            campaign,
            change,
            clock=instance.clock,
            ids=instance.ids,
            actor=cli_actor(),
        )
        if as_json:
            print_json(change_json(undone))
            return
        console.print(f"Reverted {change} with {undone.id}")

    with_instance(work)


@budget_app.command("history")
def budget_history(
    campaign: CampaignArg,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Every split proposed or applied, newest first: who, when, why, status."""

    def work(instance: Instance) -> None:
        changes = service.history(instance.store, instance.workspace(workspace).id, campaign)
        if as_json:
            print_json([change_json(c) for c in changes])
            return
        table = Table()
        for column in ("id", "at", "status", "by", "reason"):
            table.add_column(column)
        for c in changes:
            table.add_row(
                c.id,
                c.at.isoformat(timespec="minutes"),
                c.status,
                escape(c.actor),
                escape(c.reason[:80]),
            )
        console.print(table)

    with_instance(work)
