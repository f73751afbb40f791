"""`clarion persona`: apply buyer personas from YAML, list, show and delete them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from clarion.audiences.campaign_files import apply_audience_file
from clarion.audiences.persona_store import delete_persona, get_persona, list_personas
from clarion.auth import service as auth
from clarion.cli.common import with_instance
from clarion.cli.output import console, print_json
from clarion.cli.segments import JsonOpt, WorkspaceOpt, read_yaml
from clarion.instance import Instance

persona_app = typer.Typer(
    help="Buyer personas: structured profiles linked to segments and content."
)
KeyArg = Annotated[str, typer.Argument(help="The persona's key (or id).")]


@persona_app.command("apply")
def persona_apply(
    file: Annotated[
        Path,
        typer.Argument(help="A persona, a list of them, or {personas: [...], segments: [...]}."),
    ],
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Create or update the personas (and segments) a file describes; twice changes nothing."""
    data = read_yaml(file)

    def work(instance: Instance) -> None:
        done = apply_audience_file(
            instance.store,
            instance.workspace(workspace).id,
            data,
            clock=instance.clock,
            ids=instance.ids,
        )
        if as_json:
            print_json(
                {
                    "personas": [
                        {"key": c.persona.persona.key, "action": c.action} for c in done.personas
                    ],
                    "segments": [{"key": c.segment.key, "action": c.action} for c in done.segments],
                }
            )
            return
        for p in done.personas:
            stored = p.persona
            console.print(
                f"{p.action.capitalize()} persona {escape(stored.persona.key)}, "
                f"version {stored.version}"
            )
        for s in done.segments:
            console.print(
                f"{s.action.capitalize()} segment {escape(s.segment.key)}, "
                f"version {s.segment.version}"
            )

    with_instance(work)


@persona_app.command("list")
def persona_list(
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE, as_json: JsonOpt = False
) -> None:
    """List the workspace's personas."""

    def work(instance: Instance) -> None:
        found = list_personas(instance.store, instance.workspace(workspace).id)
        if as_json:
            print_json([p.as_data() for p in found])
            return
        if not found:
            console.print("No personas yet: clarion persona apply personas.yaml")
        for p in found:
            segment = f"  segment {escape(p.persona.segment)}" if p.persona.segment else ""
            console.print(f"{escape(p.persona.key)}  {escape(p.persona.label)}{segment}")

    with_instance(work)


@persona_app.command("show")
def persona_show(key: KeyArg, workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE) -> None:
    """Show one persona (JSON)."""
    with_instance(
        lambda i: print_json(get_persona(i.store, i.workspace(workspace).id, key).as_data())
    )


@persona_app.command("delete")
def persona_delete(key: KeyArg, workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE) -> None:
    """Delete a persona that no segment uses."""

    def work(instance: Instance) -> None:
        deleted = delete_persona(instance.store, instance.workspace(workspace).id, key)
        console.print(f"Deleted persona {escape(deleted.persona.key)}")

    with_instance(work)
