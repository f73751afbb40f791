"""`clarion feedback`: import bounces and complaints from files or mailboxes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from clarion.cli.common import with_instance
from clarion.cli.output import console, err_console, print_json
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.delivery.feedback.contracts import Summary
from clarion.delivery.feedback.service import import_feedback
from clarion.delivery.feedback.sources import Raw, read_imap, read_path, read_pop3
from clarion.instance import Instance

feedback_app = typer.Typer(
    help="Delivery feedback: bounces and complaints (see docs/feedback.md).",
    no_args_is_help=True,
)


def _source(path: Path | None, imap: str | None, pop3: str | None, delete: bool) -> Iterator[Raw]:
    given = [x for x in (path, imap, pop3) if x is not None]
    if len(given) != 1:
        raise InvalidInput(
            "give exactly one of PATH, --imap URL or --pop3 URL",
            [FieldProblem("source", "exactly one source")],
        )
    if path is not None:
        return read_path(path.expanduser())
    if imap is not None:
        return read_imap(imap, delete=delete)
    assert pop3 is not None
    return read_pop3(pop3, delete=delete)


@feedback_app.command("import")
def feedback_import(
    path: Annotated[
        Path | None,
        typer.Argument(help="An .eml file, an mbox file, or a directory of them."),
    ] = None,
    *,
    imap: Annotated[
        str | None,
        typer.Option(help="Read an IMAP folder: imap[s]://user:password@host[:port]/FOLDER."),
    ] = None,
    pop3: Annotated[
        str | None,
        typer.Option(help="Read a POP3 mailbox: pop3[s]://user:password@host[:port]."),
    ] = None,
    delete: Annotated[
        bool,
        typer.Option(help="Remove messages from the mailbox once read (default: leave them)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Apply DSNs (bounces), ARF reports (complaints) and skip auto-replies; safe to repeat.

    Hard bounces and complaints suppress at once, soft bounces after
    feedback.soft_bounce_limit within feedback.soft_bounce_window_days. Needs the event
    store (stop `clarion serve` first, or use the provider webhooks).
    """
    messages = _source(path, imap, pop3, delete)

    def work(instance: Instance) -> Summary:
        with Progress(
            SpinnerColumn(),
            TextColumn("Reading returned mail: {task.completed:,} messages"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as bar:
            task = bar.add_task("feedback", total=None)
            applied = import_feedback(instance, messages, progress=lambda n: bar.advance(task, n))
        return applied.summary

    summary = with_instance(work)
    if as_json:
        print_json(summary.as_dict())
        return
    table = Table(title="Feedback import", title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("count", justify="right")
    for name, value in summary.as_dict().items():
        if name != "problems":
            table.add_row(name.replace("_", " "), f"{value:,}")
    console.print(table)
    for problem in summary.problems:
        err_console.print(f"  {escape(problem)}")
