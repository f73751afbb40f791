"""The `clarion` command: init, serve, keys, campaigns; an error is a sentence, not a traceback."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from clarion import __version__
from clarion.auth import service as auth
from clarion.auth.contracts import KeyKind
from clarion.campaigns import service as campaigns
from clarion.campaigns.files import load_plan_file
from clarion.campaigns.lifecycle import CampaignState
from clarion.cli.budget import budget_app
from clarion.cli.common import cli_actor, cli_settings, with_instance
from clarion.cli.contacts import contacts_app
from clarion.cli.content import content_app
from clarion.cli.demo import demo_command
from clarion.cli.experiments import experiment_app
from clarion.cli.feedback import feedback_app
from clarion.cli.metrics import metrics_app
from clarion.cli.output import (
    campaign_json,
    campaign_view,
    campaigns_table,
    console,
    err_console,
    print_error,
    print_json,
    state_text,
)
from clarion.cli.personas import persona_app
from clarion.cli.reports import report_command
from clarion.cli.segments import segment_app
from clarion.cli.send import send_command
from clarion.cli.simulate import simulate_app
from clarion.cli.spend import spend_app
from clarion.core.clock import SystemClock
from clarion.core.errors import ClarionError
from clarion.core.ids import RandomIds
from clarion.instance import Instance, initialise, open_instance

app = typer.Typer(
    help="Clarion: plan, target, deliver, track, measure, decide and report on campaigns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
keys_app = typer.Typer(help="API keys: secret keys for the API, write keys for tracking.")
campaign_app = typer.Typer(help="Campaigns as plans: apply files, list, show, move through states.")
app.add_typer(keys_app, name="keys", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign", no_args_is_help=True)
app.add_typer(spend_app, name="spend", no_args_is_help=True)
app.add_typer(contacts_app, name="contacts", no_args_is_help=True)
app.add_typer(segment_app, name="segment", no_args_is_help=True)
app.add_typer(persona_app, name="persona", no_args_is_help=True)
app.command("send")(send_command)
app.add_typer(content_app, name="content", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")
app.command("report")(report_command)
app.add_typer(experiment_app, name="experiment", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback", no_args_is_help=True)
app.add_typer(simulate_app, name="simulate")
app.command("demo")(demo_command)
app.add_typer(budget_app, name="budget", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace key.")]


@app.command()
def version() -> None:
    """Print Clarion's version."""
    console.print(__version__)


@app.command()
def init() -> None:
    """Create or upgrade the installation in the data directory (safe to run again)."""
    settings = cli_settings()
    report = initialise(settings, clock=SystemClock(), ids=RandomIds())
    console.print(f"Data directory  {escape(report.data_dir)}")
    console.print(
        "Secrets         " + ("created (mode 0600)" if report.secrets_created else "kept")
    )
    migrated = (
        "up to date"
        if report.migrated_from == report.migrated_to
        else f"migrated {report.migrated_from or 'empty'} → {report.migrated_to}"
    )
    console.print(f"App store       {escape(settings.resolved_app_store_url)} ({migrated})")
    console.print(f"Event store     {escape(report.event_store)}")
    console.print(
        f"Workspace       {report.workspace.key} ({report.workspace.id})"
        + (" created" if report.workspace_created else "")
    )
    console.print("Next: clarion keys create --kind secret   ·   clarion campaign apply FILE.yaml")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    intake_workers: Annotated[
        int,
        typer.Option(
            min=0,
            max=64,
            help="Processes that take POST /v1/events on the intake port (0: none).",
        ),
    ] = 0,
    intake_port: Annotated[
        int | None,
        typer.Option(help="Port of the intake workers; default the port after --port."),
    ] = None,
) -> None:
    """Run the HTTP API (and, in embedded mode, own the event store)."""
    # The web stack loads only for `serve`, keeping every other command quick to start.
    import uvicorn  # noqa: PLC0415

    from clarion.api.app import create_app  # noqa: PLC0415
    from clarion.api.fastpath import TrackingFastPath  # noqa: PLC0415
    from clarion.core.runtime import (  # noqa: PLC0415
        load_lazy_imports,
        quiet_garbage_collector,
    )
    from clarion.tracking.intake_workers import listen  # noqa: PLC0415

    instance = open_instance(cli_settings())
    intake = None
    try:
        # In embedded mode the server is the one writer of the DuckDB event store.
        instance.open_events()
        if intake_workers:
            where = intake_port if intake_port is not None else port + 1
            try:
                intake = listen(host, where, intake_workers)
            except OSError as exc:
                raise ClarionError(
                    f"cannot listen on {host}:{where} for the intake workers: {exc.strerror}",
                    {"host": host, "port": where},
                    "address_in_use",
                ) from None
    except ClarionError:
        instance.close()
        raise
    api = create_app(instance, close_on_shutdown=True, intake=intake)
    console.print(f"Clarion {__version__} serving on http://{host}:{port}  (OpenAPI: /docs)")
    if intake is not None:
        console.print(
            f"Event intake: {intake_workers} worker(s) on "
            f"http://{host}:{intake.address[1]}/v1/events"
        )
    # The collector's hot path answers before FastAPI's per-request work (decision 0031).
    served = TrackingFastPath(api, outside=api)
    load_lazy_imports()
    quiet_garbage_collector()
    uvicorn.run(served, host=host, port=port, log_level="warning", access_log=False)


@keys_app.command("create")
def keys_create(
    kind: Annotated[KeyKind, typer.Option(help="secret: the API; write: tracking only.")],
    label: Annotated[str, typer.Option(help="What the key is for.")] = "",
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""

    def work(instance: Instance) -> None:
        ws = instance.workspace(workspace)
        new = auth.create_key(
            instance.store,
            ws.id,
            kind,
            pepper=instance.pepper,
            clock=instance.clock,
            ids=instance.ids,
            label=label,
        )
        err_console.print(f"Created {kind.value} key {new.key.id}. It is shown once; keep it safe:")
        console.out(new.plaintext)

    with_instance(work)


@keys_app.command("list")
def keys_list(workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE, as_json: JsonOpt = False) -> None:
    """List API keys (prefixes only)."""

    def work(instance: Instance) -> None:
        found = auth.list_keys(instance.store, instance.workspace(workspace).id)
        if as_json:
            print_json([k.__dict__ for k in found])
            return
        table = Table(title="API keys", title_justify="left")
        for column in ("id", "kind", "prefix", "label", "created", "revoked"):
            table.add_column(column)
        for k in found:
            table.add_row(
                k.id,
                k.kind.value,
                k.prefix + "…",
                escape(k.label),
                k.created_at.isoformat(timespec="seconds"),
                k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "-",
            )
        console.print(table)

    with_instance(work)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see clarion keys list).")],
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
) -> None:
    """Revoke an API key at once."""

    def work(instance: Instance) -> None:
        key = auth.revoke_key(
            instance.store, instance.workspace(workspace).id, key_id, clock=instance.clock
        )
        console.print(f"Revoked {key.id} ({key.kind.value}, {key.prefix}…)")

    with_instance(work)


@campaign_app.command("apply")
def campaign_apply(
    file: Annotated[Path, typer.Argument(help="A campaign file (YAML).")],
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Create or update the campaign a file describes; applying the same file twice is a no-op."""
    plan = load_plan_file(file)  # validate before touching any store

    def work(instance: Instance) -> None:
        result = campaigns.apply_plan(
            instance.store,
            instance.workspace(workspace).id,
            plan,
            clock=instance.clock,
            ids=instance.ids,
            actor=cli_actor(),
        )
        if as_json:
            print_json({"action": result.action, "campaign": campaign_json(result.campaign)})
            return
        c = result.campaign
        console.print(
            f"{result.action.capitalize()} campaign {escape(c.key)} ({c.id}), "
            f"revision {c.revision}, state {state_text(c.state.value)}"
        )

    with_instance(work)


@campaign_app.command("list")
def campaign_list(
    state: Annotated[
        CampaignState | None, typer.Option(help="Only campaigns in this state.")
    ] = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """List campaigns."""

    def work(instance: Instance) -> None:
        found = campaigns.list_campaigns(instance.store, instance.workspace(workspace).id, state)
        if as_json:
            print_json([campaign_json(c) for c in found])
        elif not found:
            console.print("No campaigns yet: clarion campaign apply FILE.yaml")
        else:
            console.print(campaigns_table(found))

    with_instance(work)


@campaign_app.command("show")
def campaign_show(
    ref: Annotated[str, typer.Argument(help="Campaign id or key.")],
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Show one campaign: plan, KPI targets, budget split, hypotheses, brief, lifecycle."""

    def work(instance: Instance) -> None:
        ws = instance.workspace(workspace).id
        campaign = campaigns.get_campaign(instance.store, ws, ref)
        transitions = campaigns.history(instance.store, ws, ref)
        if as_json:
            data = campaign_json(campaign)
            data["transitions"] = [{**t.__dict__, "at": t.at.isoformat()} for t in transitions]
            print_json(data)
            return
        for part in campaign_view(campaign, transitions):
            console.print(part)

    with_instance(work)


@campaign_app.command("transition")
def campaign_transition(
    ref: Annotated[str, typer.Argument(help="Campaign id or key.")],
    state: Annotated[CampaignState, typer.Argument(help="The state to move to.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the history).")] = "",
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
) -> None:
    """Move a campaign to another state (draft → scheduled → running ⇄ paused → completed)."""

    def work(instance: Instance) -> None:
        campaign = campaigns.transition(
            instance.store,
            instance.workspace(workspace).id,
            ref,
            state,
            clock=instance.clock,
            actor=cli_actor(),
            reason=reason,
        )
        console.print(f"Campaign {escape(campaign.key)} is now {state_text(campaign.state.value)}")

    with_instance(work)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI, turning every error into a sentence and an exit code."""
    try:
        return app(args=argv, standalone_mode=False)
    except ClarionError as exc:
        print_error(exc)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("Aborted.")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage mistakes: Typer explains them itself
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            err_console.print(f"[bold red]Error:[/] {escape(str(exc))}")
        sys.exit(getattr(exc, "exit_code", 2))
    except Exception as exc:  # the last line of defence: a sentence, never a traceback
        if os.environ.get("CLARION_DEBUG"):
            raise
        err_console.print(
            f"[bold red]Error:[/] unexpected {type(exc).__name__}: {escape(str(exc))} "
            "(set CLARION_DEBUG=1 for details)"
        )
        sys.exit(70)
