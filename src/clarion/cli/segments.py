"""`clarion segment`: store segments from YAML/JSON, list, show, preview, delete them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from clarion.audiences.retargeting import PLATFORMS, check_platform, export_segment, write_export
from clarion.audiences.segments import load_yaml, preview
from clarion.audiences.segments.membership import current_members, refresh_segment
from clarion.audiences.segments.request import preview_request
from clarion.audiences.segments.store import (
    delete_segment,
    get_segment,
    list_segments,
    save_segment,
    workspace_context,
)
from clarion.audiences.segments.stored import segment_input
from clarion.audiences.segments.stored_preview import preview_stored
from clarion.auth import service as auth
from clarion.cli.common import with_instance
from clarion.cli.output import console, print_json
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.instance import Instance

segment_app = typer.Typer(help="Segments: rule trees that find contacts (see docs/segments.md).")

WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace key.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
KeyArg = Annotated[str, typer.Argument(help="The segment's key (or id).")]


def read_yaml(file: Path) -> Any:
    """A YAML or JSON file's data, nesting checked before it recurses; InvalidInput on error."""
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"{file}: {exc.strerror}", [FieldProblem("(file)", str(exc.strerror))], str(file)
        ) from None
    return load_yaml(text, source=str(file))


def _save(file: Path, workspace: str, as_json: bool, *, create_only: bool) -> None:
    item = segment_input(read_yaml(file))  # checked before any store is opened

    def work(instance: Instance) -> None:
        change = save_segment(
            instance.store,
            instance.workspace(workspace).id,
            item,
            clock=instance.clock,
            ids=instance.ids,
            create_only=create_only,
        )
        if as_json:
            print_json({"action": change.action, "segment": change.segment.as_data()})
            return
        s = change.segment
        console.print(
            f"{change.action.capitalize()} segment {escape(s.key)} ({s.id}), version {s.version}"
        )

    with_instance(work)


@segment_app.command("create")
def segment_create(
    file: Annotated[
        Path, typer.Argument(help="{key, name, description, rule, attribute_types} in YAML/JSON.")
    ],
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Store a new segment; refused if its key is taken or its rule is unsound."""
    _save(file, workspace, as_json, create_only=True)


@segment_app.command("apply")
def segment_apply(
    file: Annotated[
        Path, typer.Argument(help="{key, name, description, rule, attribute_types} in YAML/JSON.")
    ],
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Create or update the segment a file describes; applying it twice changes nothing."""
    _save(file, workspace, as_json, create_only=False)


@segment_app.command("list")
def segment_list(
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE, as_json: JsonOpt = False
) -> None:
    """List the workspace's segments."""

    def work(instance: Instance) -> None:
        found = list_segments(instance.store, instance.workspace(workspace).id)
        if as_json:
            print_json([s.as_data() for s in found])
            return
        if not found:
            console.print("No segments yet: clarion segment create FILE.yaml")
        for s in found:
            console.print(f"{escape(s.key)}  v{s.version}  {escape(s.name or '')}")

    with_instance(work)


@segment_app.command("show")
def segment_show(
    key: KeyArg, workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE, as_json: JsonOpt = False
) -> None:
    """Show one segment's definition."""

    def work(instance: Instance) -> None:
        s = get_segment(instance.store, instance.workspace(workspace).id, key)
        if as_json:
            print_json(s.as_data())
            return
        console.print(f"[bold]{escape(s.key)}[/] ({s.id}) version {s.version}")
        if s.name:
            console.print(escape(s.name))
        print_json({"rule": s.rule, "attribute_types": s.attribute_types})

    with_instance(work)


@segment_app.command("delete")
def segment_delete(key: KeyArg, workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE) -> None:
    """Delete a segment that no other segment or persona uses."""

    def work(instance: Instance) -> None:
        deleted = delete_segment(instance.store, instance.workspace(workspace).id, key)
        console.print(f"Deleted segment {escape(deleted.key)}")

    with_instance(work)


@segment_app.command("preview")
def segment_preview(
    target: Annotated[
        str,
        typer.Argument(
            help="A stored segment's key, or a file with a rule or {rule, attribute_types, sample}."
        ),
    ],
    sample: Annotated[int, typer.Option(help="How many members to show.")] = 10,
    role: Annotated[
        str, typer.Option(help="Mask a stored segment's sample for this role.")
    ] = "admin",
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Count the contacts a segment (stored, or a rule in a file) selects now; show a few."""
    path = Path(target)
    wanted = preview_request(read_yaml(path), sample=sample) if path.is_file() else None

    def work(instance: Instance) -> None:
        workspace_id = instance.workspace(workspace).id
        events = instance.open_events()  # StoreBusy while `clarion serve` holds the file
        if wanted is None:
            shown = preview_stored(
                instance.store,
                events,
                workspace_id,
                target,
                now=instance.clock.now(),
                role=role,
                sample=sample,
            )
            if as_json:
                print_json(shown)
                return
            console.print(f"[bold]{shown['count']:,}[/] contacts in segment {escape(target)}")
            for contact in shown["sample"]:
                console.print(f"  {contact['id']}  {escape(str(contact.get('email') or ''))}")
            return
        context = workspace_context(
            instance.store, workspace_id, attribute_types=wanted.context.attribute_types
        )
        found = preview(
            events,
            workspace_id,
            wanted.rule,
            now=instance.clock.now(),
            context=context,
            sample=wanted.sample,
        )
        if as_json:
            print_json({"count": found.count, "sample": list(found.sample_contact_ids)})
            return
        console.print(f"[bold]{found.count:,}[/] contacts match {escape(path.name)}")
        for contact_id in found.sample_contact_ids:
            console.print(f"  {contact_id}")

    with_instance(work)


@segment_app.command("refresh")
def segment_refresh(
    key: KeyArg, workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE, as_json: JsonOpt = False
) -> None:
    """Evaluate a stored segment now and record who entered and who left it."""

    def work(instance: Instance) -> None:
        done = refresh_segment(
            instance.store,
            instance.open_events(),
            instance.workspace(workspace).id,
            key,
            now=instance.clock.now(),
        )
        data = {
            "segment": done.segment_key,
            "version": done.segment_version,
            "at": done.at.isoformat(),
            "entered": done.entered,
            "exited": done.exited,
            "members": done.members,
        }
        if as_json:
            print_json(data)
            return
        console.print(
            f"Segment {escape(done.segment_key)}: {done.members:,} members, "
            f"{done.entered:,} entered, {done.exited:,} left"
        )

    with_instance(work)


@segment_app.command("members")
def segment_members_cmd(
    key: KeyArg,
    limit: Annotated[int, typer.Option(help="Show at most this many members.")] = 100,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """List a segment's members as of its last refresh, with when each entered."""

    def work(instance: Instance) -> None:
        count, rows = current_members(
            instance.store,
            instance.open_events(),
            instance.workspace(workspace).id,
            key,
            now=instance.clock.now(),
            limit=limit,
        )
        if as_json:
            print_json(
                {
                    "count": count,
                    "members": [{"contact_id": c, "entered_at": at.isoformat()} for c, at in rows],
                }
            )
            return
        console.print(f"[bold]{count:,}[/] members in segment {escape(key)}")
        for contact_id, at in rows:
            console.print(f"  {contact_id}  since {at.isoformat()}")


@segment_app.command("export")
def segment_export(
    key: KeyArg,
    platform: Annotated[
        str, typer.Option("--format", help=f"Ad platform: {', '.join(PLATFORMS)}.")
    ],
    out: Annotated[Path, typer.Option("--out", help="The CSV file to write (replaced whole).")],
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Export a segment as a customer-match file (hashed email and phone), ads consent only."""
    check_platform(platform)

    def work(instance: Instance) -> None:
        text, report = export_segment(
            instance.store,
            instance.open_events(),
            instance.workspace(workspace).id,
            key,
            platform,
            now=instance.clock.now(),
        )
        write_export(text, out)
        if as_json:
            print_json({**report.__dict__, "out": str(out)})
            return
        console.print(
            f"Wrote {report.exported:,} of {report.members:,} members of {escape(key)} "
            f"to {escape(str(out))} ({platform})"
        )
        for reason, count in report.excluded.items():
            console.print(f"  excluded {count:,}: {reason}")

    with_instance(work)
