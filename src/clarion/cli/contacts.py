"""`clarion contacts`: import contacts, show one as a role sees it, erase, suppress."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from clarion.audiences import service as contacts
from clarion.audiences.contracts import SUPPRESSION_REASONS, ImportReport
from clarion.audiences.importer import import_options
from clarion.audiences.pii import ROLES
from clarion.audiences.reader import ContactFile, parse_mapping
from clarion.auth import service as auth
from clarion.cli.common import cli_actor, cli_settings, with_instance
from clarion.cli.output import FileProgress, console, err_console, print_json
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.instance import Instance, open_instance

contacts_app = typer.Typer(
    help="Contacts: import them with their consent, show, erase on request, suppress "
    "(see docs/contacts.md).",
    no_args_is_help=True,
)


class RoleChoice(StrEnum):
    """The roles ``--role`` accepts (pii.ROLES)."""

    admin = "admin"
    marketer = "marketer"
    analyst = "analyst"
    viewer = "viewer"


class ReasonChoice(StrEnum):
    """The reasons ``suppress --reason`` accepts (erasure has its own command)."""

    hard_bounce = "hard_bounce"
    complaint = "complaint"
    unsubscribe = "unsubscribe"
    manual = "manual"


assert {r.value for r in RoleChoice} == set(ROLES)
assert {r.value for r in ReasonChoice} == set(SUPPRESSION_REASONS) - {"erased"}

WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace key.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


@contacts_app.command("import")
def contacts_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="A CSV (, or ; separated) or JSONL file of contacts. Rejected rows are "
            "explained in FILE.errors.csv; the others are imported."
        ),
    ],
    *,
    maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="COLUMN=FIELD: read a column into a field (email, phone, first_name…), "
            "attributes.NAME, consent:PURPOSE:CHANNEL (yes/no cells), or - to ignore it. "
            "Repeatable.",
        ),
    ] = None,
    consents: Annotated[
        list[str] | None,
        typer.Option(
            "--consent",
            help="PURPOSE:CHANNEL granted to every imported contact, with the file and row "
            "as proof, e.g. marketing:email. Repeatable.",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(help="Where the contacts came from, stored with their consents."),
    ] = None,
    country: Annotated[
        str | None,
        typer.Option(
            help="Country of rows that name none (ISO code, e.g. DE); lets national phone "
            "numbers be read."
        ),
    ] = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Import contacts; importing the same file again changes nothing.

    Exits 1 when some rows were rejected (the others are imported).
    """
    path = file.expanduser().resolve()
    mapping = parse_mapping(maps or [])
    import_options(consents or [], country, source)  # options checked before any store
    with ContactFile(path, mapping):  # so is the file's header
        pass
    instance = open_instance(cli_settings())
    try:
        events = instance.open_events()  # StoreBusy while `clarion serve` holds the file
        events.create_schema()
        workspace_id = instance.workspace(workspace).id
        with FileProgress(path, path.stat().st_size) as update:
            report = contacts.import_contacts(
                instance.store,
                events,
                path,
                workspace_id=workspace_id,
                clock=instance.clock,
                ids=instance.ids,
                mapping=mapping,
                consents=consents or [],
                source=source,
                default_country=country,
                on_progress=update,
            )
    finally:
        instance.close()
    if as_json:
        print_json(report.as_dict())
    else:
        console.print(summary_table(report, path))
    if report.rejected:
        _print_rejections(report)
        raise typer.Exit(1)


@contacts_app.command("show")
def contacts_show(
    contact: Annotated[str, typer.Argument(help="The contact's id (ct_…) or email address.")],
    role: Annotated[
        RoleChoice, typer.Option(help="Show the contact as this role sees it (docs/contacts.md).")
    ] = RoleChoice.admin,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
    as_json: JsonOpt = False,
) -> None:
    """Show a contact, masked for a role, with its consents and suppressions."""

    def work(instance: Instance) -> None:
        workspace_id = instance.workspace(workspace).id
        found = _contact(instance, workspace_id, contact)
        view = contacts.contact_view(
            instance.store, workspace_id, found.id, role=role.value, now=instance.clock.now()
        )
        if as_json:
            print_json(view)
        else:
            console.print(contact_table(view))

    with_instance(work)


@contacts_app.command("erase")
def contacts_erase(
    contact: Annotated[str, typer.Argument(help="The contact's id (ct_…) or email address.")],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Erase without asking for confirmation.")
    ] = False,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
) -> None:
    """Erase a contact's personal data on request (irreversible); its address stays suppressed."""

    def work(instance: Instance) -> None:
        workspace_id = instance.workspace(workspace).id
        found = _contact(instance, workspace_id, contact)
        if found.erased:
            console.print(f"{found.id} was erased already ({found.erased_at:%Y-%m-%d %H:%M} UTC)")
            return
        if not yes:
            typer.confirm(
                f"Erase the personal data of {found.id}? This cannot be undone", abort=True
            )
        events = instance.open_events()
        erased = contacts.erase_contact(
            instance.store,
            events,
            workspace_id,
            found.id,
            clock=instance.clock,
            source=cli_actor(),
        )
        console.print(f"Erased {erased.id}; its address is kept only as a hash, suppressed.")

    with_instance(work)


@contacts_app.command("suppress")
def contacts_suppress(
    email: Annotated[str, typer.Argument(help="The address to suppress (need not be a contact).")],
    reason: Annotated[
        ReasonChoice, typer.Option(help="Why the address must not be contacted.")
    ] = ReasonChoice.manual,
    channel: Annotated[
        str | None,
        typer.Option(help="Suppress on this channel only (e.g. email); default: every channel."),
    ] = None,
    workspace: WorkspaceOpt = auth.DEFAULT_WORKSPACE,
) -> None:
    """Put an address on the suppression list, effective at once."""

    def work(instance: Instance) -> None:
        entry = contacts.suppress(
            instance.store,
            instance.open_events(),
            instance.workspace(workspace).id,
            email=email,
            reason=reason.value,
            channel=channel,
            clock=instance.clock,
            source=cli_actor(),
        )
        where = entry.channel or "every channel"
        console.print(f"Suppressed ({entry.reason}, {where}) as of {entry.created_at:%Y-%m-%d}")

    with_instance(work)


def summary_table(report: ImportReport, path: Path) -> Table:
    """What the import did, as a two-column table."""
    table = Table(title="Contacts import", title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("file", escape(str(path)))
    table.add_row("format", report.file_format)
    table.add_row("rows", _rows_text(report))
    table.add_row(
        "contacts",
        f"{report.created:,} created, {report.updated:,} updated, "
        f"{report.unchanged:,} unchanged, {report.merged:,} merged (duplicates in the file)",
    )
    table.add_row("consents recorded", f"{report.consents_recorded:,}")
    if report.columns:
        mapped = ", ".join(f"{column} → {target}" for column, target in report.columns.items())
        table.add_row("columns", escape(mapped))
    if report.ignored_columns:
        table.add_row("ignored columns", escape(", ".join(report.ignored_columns)))
    if report.errors_path is not None:
        table.add_row("error report", escape(str(report.errors_path)))
    table.add_row("source", escape(report.source))
    return table


def contact_table(view: dict[str, Any]) -> Table:
    """A masked contact view as a two-column table (values escaped: they are user data)."""
    table = Table(
        title=f"Contact {view['id']} (as {view['role']})", title_justify="left", show_header=False
    )
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in view.items():
        if name in _NOT_ROWS or value in (None, {}):
            continue
        shown = (
            ", ".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else value
        )
        table.add_row(name, escape(str(shown)))
    consents = [
        f"{c['purpose']}:{c['channel']} {c['status']} since {c['since'][:10]}"
        for c in view["consents"]
    ]
    table.add_row("consents", escape("; ".join(consents)) or "none recorded")
    active = [
        f"{s['reason']} ({s['channel'] or 'every channel'})"
        for s in view["suppressions"]
        if s["lifted_at"] is None
    ]
    table.add_row("suppressed", escape("; ".join(active)) or "no")
    if view["masked"]:
        table.add_row("masked", ", ".join(view["masked"]))
    return table


_NOT_ROWS = frozenset({"id", "role", "masked", "consents", "suppressions", "suppressed"})


def _contact(instance: Instance, workspace_id: str, ref: str) -> Any:
    if "@" in ref:
        found = contacts.find_contact(instance.store, workspace_id, email=ref)
        if found is None:
            problem = "no contact has this address"
            raise InvalidInput(problem, [FieldProblem("contact", problem)])
        return found
    return contacts.get_contact(instance.store, workspace_id, ref)


def _rows_text(report: ImportReport) -> str:
    parts = [f"{report.stored:,} stored"]
    if report.rejected:
        parts.append(f"[red]{report.rejected:,} rejected[/]")
    if report.skipped:
        parts.append(f"{report.skipped:,} blank, skipped")
    return f"{report.rows_read:,} read: " + ", ".join(parts)


def _print_rejections(report: ImportReport) -> None:
    rows = "row" if report.rejected == 1 else "rows"
    err_console.print(
        f"[bold red]{report.rejected:,} {rows} rejected[/]; each problem is listed in "
        f"{escape(str(report.errors_path))}"
    )
    for p in report.problems:
        err_console.print(f"  - row {p.row}, {escape(p.field)}: {escape(p.problem)}")
