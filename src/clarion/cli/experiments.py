"""`clarion experiment`: create, start, read results, stop and roll out A/B/n tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from clarion.auth import service as auth
from clarion.cli.common import cli_actor, with_instance
from clarion.cli.output import console, print_json
from clarion.experiments import service
from clarion.experiments.contracts import ExperimentResults
from clarion.experiments.decisions import decide
from clarion.experiments.explain import amount, percent, progress, variant_label
from clarion.experiments.files import load_design_file
from clarion.experiments.serialise import (
    decision_json,
    experiment_json,
    results_json,
    stored_decision_json,
)
from clarion.instance import Instance

experiment_app = typer.Typer(
    help="Experiments: A/B/n and multivariate tests that may honestly say 'inconclusive'."
)

RefArg = Annotated[str, typer.Argument(help="Experiment id or key.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace key.")]


@experiment_app.command("create")
def experiment_create(
    file: Annotated[Path, typer.Argument(help="An experiment design (YAML or JSON).")],
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Create a draft experiment from a design file; prints the sample size it implies."""
    design = load_design_file(file)  # validate before touching any store

    def work(instance: Instance) -> None:
        created = service.create_experiment(
            instance.store,
            instance.workspace(workspace).id,
            design,
            clock=instance.clock,
            ids=instance.ids,
            actor=cli_actor(),
        )
        if as_json:
            print_json(experiment_json(created))
            return
        plan = created.plan
        size = f"{plan.sample_size:,} contacts" if plan.sample_size else "no planned horizon"
        console.print(
            f"Created experiment {escape(created.key)} ({created.id}), draft: {size}, "
            f"read by {plan.method.replace('_', ' ')}"
        )

    with_instance(work)


@experiment_app.command("list")
def experiment_list(
    campaign: Annotated[str | None, typer.Option(help="Only this campaign's (id or key).")] = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """List experiments, newest first."""

    def work(instance: Instance) -> None:
        found = service.list_experiments(instance.store, instance.workspace(workspace).id, campaign)
        if as_json:
            print_json([experiment_json(e) for e in found])
            return
        table = Table(title="Experiments", title_justify="left")
        for column in ("key", "kind", "state", "primary metric", "variants"):
            table.add_column(column)
        for e in found:
            table.add_row(
                escape(e.key),
                e.design.kind.value,
                e.state.value,
                e.design.primary_metric,
                str(len(e.design.variants)),
            )
        console.print(table)

    with_instance(work)


@experiment_app.command("start")
def experiment_start(ref: RefArg, workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE) -> None:
    """Start exposing contacts: draft → running."""

    def work(instance: Instance) -> None:
        e = service.start(
            instance.store,
            instance.workspace(workspace).id,
            ref,
            clock=instance.clock,
            actor=cli_actor(),
        )
        console.print(f"Experiment {escape(e.key)} is now running")

    with_instance(work)


def _results_view(found: ExperimentResults) -> None:
    decision = decide(found)
    console.print(f"[bold]{escape(decision.explanation)}[/]")
    console.print(
        f"{progress(found)}; read by {found.method.replace('_', ' ')}, "
        f"SRM p = {found.srm.p_value:.3g}"
    )
    table = Table(title_justify="left")
    for column in ("metric", "variant", "vs", "contacts", "effect", "CI", "chance to beat"):
        table.add_column(column)
    for c in found.primary + found.guardrails:
        lo, hi = amount(c.metric, c.ci_lower), amount(c.metric, c.ci_upper)
        table.add_row(
            c.metric,
            escape(variant_label(c.challenger)),
            escape(variant_label(c.baseline)),
            f"{c.n_challenger:,} / {c.n_baseline:,}",
            amount(c.metric, c.estimate),
            f"{lo} to {hi}",
            percent(c.chance_to_beat),
        )
    console.print(table)


@experiment_app.command("results")
def experiment_results(
    ref: RefArg, workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE, as_json: JsonOpt = False
) -> None:
    """Read the results now (safe at any time) and what the decision rule says; stores nothing."""

    def work(instance: Instance) -> None:
        events = instance.open_events()  # StoreBusy while `clarion serve` holds the file
        found = service.results(
            instance.store, events, instance.workspace(workspace).id, ref, clock=instance.clock
        )
        if as_json:
            print_json({**results_json(found), "decision": decision_json(decide(found))})
            return
        _results_view(found)

    with_instance(work)


@experiment_app.command("stop")
def experiment_stop(
    ref: RefArg,
    reason: Annotated[str, typer.Option(help="Why (kept in the history).")] = "",
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Stop exposing (running → stopped) and store the final decision with its inputs."""

    def work(instance: Instance) -> None:
        events = instance.open_events()  # StoreBusy while `clarion serve` holds the file
        stored = service.stop(
            instance.store,
            events,
            instance.workspace(workspace).id,
            ref,
            clock=instance.clock,
            ids=instance.ids,
            actor=cli_actor(),
            reason=reason,
        )
        if as_json:
            print_json(stored_decision_json(stored))
            return
        console.print(f"Stopped. Decision: {stored.outcome}. {escape(stored.explanation)}")

    with_instance(work)


@experiment_app.command("rollout")
def experiment_rollout(
    ref: RefArg,
    variant: Annotated[
        str | None, typer.Option(help="Roll out this variant instead of the winner.")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why; required when it is not the winner.")] = "",
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
) -> None:
    """Roll out the final decision's winner (or a named variant, with a reason)."""

    def work(instance: Instance) -> None:
        e = service.rollout(
            instance.store,
            instance.workspace(workspace).id,
            ref,
            clock=instance.clock,
            actor=cli_actor(),
            variant=variant,
            reason=reason,
        )
        shown = variant_label(e.rolled_out_variant or "")
        console.print(f"Experiment {escape(e.key)} rolled out {escape(shown)}")

    with_instance(work)
