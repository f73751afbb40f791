"""`clarion content`: add, list, show, publish and tag assets; preview a template for a contact."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from clarion.auth import service as auth
from clarion.cli.common import cli_actor, with_instance
from clarion.cli.contacts import RoleChoice
from clarion.cli.output import console, print_json
from clarion.content.assets import MAX_IMAGE, Asset
from clarion.content.render import MAX_SOURCE
from clarion.content.service import ContentService
from clarion.core.errors import FieldProblem, InvalidInput, TooLarge
from clarion.instance import Instance

content_app = typer.Typer(
    help="Content: the asset library (templates, snippets, images) and previews "
    "(see docs/content.md).",
    no_args_is_help=True,
)


class KindChoice(StrEnum):
    """The kinds ``content add --kind`` accepts (assets.ASSET_KINDS)."""

    mjml = "mjml"
    html = "html"
    snippet = "snippet"
    image = "image"


WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace key.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
VersionOpt = Annotated[
    int | None, typer.Option("--version", "-v", min=1, help="A version number (default: latest).")
]


def _library(instance: Instance) -> ContentService:
    return ContentService(instance.store, clock=instance.clock, ids=instance.ids)


def _read(file: Path, kind: KindChoice) -> bytes:
    limit = MAX_IMAGE if kind is KindChoice.image else MAX_SOURCE * 4  # UTF-8: ≤ 4 bytes a char
    try:
        size = file.stat().st_size
        if size > limit:
            raise TooLarge(f"{file}: {size:,} bytes; the limit is {limit:,}")
        return file.read_bytes()
    except OSError as exc:
        problem = f"cannot read {file}: {exc.strerror or exc}"
        raise InvalidInput(problem, [FieldProblem("file", problem)]) from None


def _text(file: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = f"{file}: not UTF-8 text (byte {exc.start})"
        raise InvalidInput(problem, [FieldProblem("file", problem)]) from None


@content_app.command("add")
def content_add(
    file: Annotated[
        Path, typer.Argument(help="The template, snippet (UTF-8 text) or image file to store.")
    ],
    *,
    key: Annotated[str, typer.Option("--key", "-k", help="The asset's key, e.g. spring-news.")],
    kind: Annotated[KindChoice, typer.Option("--kind", help="What the file is.")],
    subject: Annotated[
        str | None,
        typer.Option(help="The subject line of a template (itself a template); required there."),
    ] = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Store a file as the asset's draft (a new version after a publish); checked first."""
    raw = _read(file, kind)

    def work(instance: Instance) -> None:
        library = _library(instance)
        workspace_id = instance.workspace(workspace).id
        if kind is KindChoice.image:
            added = library.add(workspace_id, key, kind.value, actor=cli_actor(), data=raw)
        else:
            added = library.add(
                workspace_id,
                key,
                kind.value,
                actor=cli_actor(),
                body=_text(file, raw),
                subject=subject,
            )
        if as_json:
            print_json(added.as_dict(with_body=False))
        else:
            console.print(
                f"{escape(added.key)} version {added.version} ({added.state}, "
                f"{added.content_type}, {added.size:,} bytes)"
            )

    with_instance(work)


@content_app.command("list")
def content_list(
    kind: Annotated[KindChoice | None, typer.Option(help="Only assets of this kind.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only assets with this tag.")] = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """List the workspace's assets with their tags and versions."""

    def work(instance: Instance) -> None:
        found = _library(instance).assets(
            instance.workspace(workspace).id, kind=kind.value if kind else None, tag=tag
        )
        if as_json:
            print_json([a.as_dict() for a in found])
        else:
            console.print(_assets_table(found))

    with_instance(work)


@content_app.command("show")
def content_show(
    key: Annotated[str, typer.Argument(help="The asset's key.")],
    version: VersionOpt = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Show an asset's versions and one version's subject and body."""

    def work(instance: Instance) -> None:
        library = _library(instance)
        workspace_id = instance.workspace(workspace).id
        asset = library.asset(workspace_id, key)
        chosen = library.version(workspace_id, key, version)
        if as_json:
            print_json({**asset.as_dict(), "shown": chosen.as_dict()})
            return
        console.print(_assets_table([asset]))
        console.print(f"version {chosen.version} ({chosen.state}), sha256 {chosen.sha256[:12]}…")
        if chosen.includes:
            pins = ", ".join(f"{k}@{v}" for k, v in chosen.includes.items())
            console.print(f"includes {escape(pins)}")
        if chosen.subject is not None:
            console.print(f"subject: {escape(chosen.subject)}")
        if chosen.body is not None:
            console.print(escape(chosen.body), highlight=False)

    with_instance(work)


@content_app.command("publish")
def content_publish(
    key: Annotated[str, typer.Argument(help="The asset's key.")],
    version: VersionOpt = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
) -> None:
    """Publish the draft: it never changes again; a template pins its snippets' versions."""

    def work(instance: Instance) -> None:
        done = _library(instance).publish(
            instance.workspace(workspace).id, key, actor=cli_actor(), version=version
        )
        pins = ", ".join(f"{k}@{v}" for k, v in done.includes.items())
        console.print(
            f"{escape(done.key)} version {done.version} published"
            + (f" (includes {escape(pins)})" if pins else "")
        )

    with_instance(work)


@content_app.command("tag")
def content_tag(
    key: Annotated[str, typer.Argument(help="The asset's key.")],
    add: Annotated[
        list[str] | None, typer.Option("--add", help="A tag to add. Repeatable.")
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A tag to remove. Repeatable.")
    ] = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
) -> None:
    """Add and remove an asset's tags."""

    def work(instance: Instance) -> None:
        asset = _library(instance).tag(
            instance.workspace(workspace).id, key, add=add or [], remove=remove or []
        )
        console.print(f"{escape(asset.key)}: {escape(', '.join(asset.tags)) or 'no tags'}")

    with_instance(work)


@content_app.command("preview")
def content_preview(
    template: Annotated[str, typer.Argument(help="The template's key.")],
    *,
    contact: Annotated[
        str, typer.Option("--contact", "-c", help="The contact's id (ct_…) or email address.")
    ],
    version: VersionOpt = None,
    role: Annotated[
        RoleChoice, typer.Option(help="Fill in the contact's fields as this role sees them.")
    ] = RoleChoice.admin,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the rendered HTML to this file.")
    ] = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Render a template for one contact, strictly: a misspelt name is an error naming it."""

    def work(instance: Instance) -> None:
        shown = _library(instance).preview(
            instance.workspace(workspace).id,
            template,
            contact_ref=contact,
            role=role.value,
            version=version,
        )
        if html is not None:
            html.write_text(shown["html"], encoding="utf-8")
        if as_json:
            print_json(shown)
            return
        console.print(
            f"{escape(template)} version {shown['version']} ({shown['state']}) for "
            f"{shown['contact_id']} as {shown['role']}"
            + (f", masked: {', '.join(shown['masked'])}" if shown["masked"] else "")
        )
        console.print(f"Subject: {escape(shown['subject'])}", highlight=False)
        console.print()
        console.print(escape(shown["text"]), highlight=False, end="")
        if html is not None:
            console.print(f"\nHTML written to {escape(str(html))}")

    with_instance(work)


def _assets_table(assets: list[Asset]) -> Table:
    table = Table("key", "kind", "latest", "published", "tags", "updated")
    for a in assets:
        published = a.published
        table.add_row(
            escape(a.key),
            a.kind,
            f"{a.latest.version} ({a.latest.state})",
            str(published.version) if published else "-",
            escape(", ".join(a.tags)),
            f"{a.updated_at:%Y-%m-%d %H:%M}",
        )
    return table
