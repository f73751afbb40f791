"""`clarion segment`: preview a segment rule written in YAML or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from clarion.audiences.segments import load_yaml, preview
from clarion.audiences.segments.request import preview_request
from clarion.auth import service as auth
from clarion.cli.common import cli_settings
from clarion.cli.output import console, print_json
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.instance import open_instance

segment_app = typer.Typer(help="Segments: rule trees that find contacts (see docs/segments.md).")


@segment_app.command("preview")
def segment_preview(
    file: Annotated[
        Path, typer.Argument(help="A rule, or {rule, attribute_types, sample}, in YAML/JSON.")
    ],
    sample: Annotated[int, typer.Option(help="How many member ids to show.")] = 10,
    workspace: Annotated[
        str, typer.Option("--workspace", "-w", help="Workspace key.")
    ] = auth.DEFAULT_WORKSPACE,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Count the contacts a rule selects now, and show the first few (nothing is saved)."""
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"{file}: {exc.strerror}", [FieldProblem("(file)", str(exc.strerror))], str(file)
        ) from None
    wanted = preview_request(load_yaml(text, source=str(file)), sample=sample)
    instance = open_instance(cli_settings())
    try:
        events = instance.open_events()  # StoreBusy while `clarion serve` holds the file
        found = preview(
            events,
            instance.workspace(workspace).id,
            wanted.rule,
            now=instance.clock.now(),
            context=wanted.context,
            sample=wanted.sample,
        )
    finally:
        instance.close()
    if as_json:
        print_json({"count": found.count, "sample": list(found.sample_contact_ids)})
        return
    console.print(f"[bold]{found.count:,}[/] contacts match {escape(file.name)}")
    for contact_id in found.sample_contact_ids:
        console.print(f"  {contact_id}")
