"""`clarion send`: send a campaign's email step with a progress bar; status, pause, cancel."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from typing import Annotated, Final

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clarion.auth import service as auth
from clarion.cli.common import cli_actor, with_instance
from clarion.cli.output import console, err_console, print_json
from clarion.content.service import ContentService
from clarion.core.errors import FieldProblem, InvalidInput, StoreBusy
from clarion.delivery import service as delivery
from clarion.delivery.contracts import SendProgress
from clarion.delivery.runner import build_worker
from clarion.instance import Instance

ACTIONS: Final = ("status", "pause", "resume", "cancel")
FINISH: Final = "finish"  # test-then-send: `clarion send finish CAMPAIGN [--step KEY]`
_REFRESH: Final = 0.25  # seconds between progress bar updates


def send_command(
    target: Annotated[
        str,
        typer.Argument(
            help="A campaign id or key to send, or one of: status, pause, resume, cancel, "
            "finish (test-then-send: the winner or the fallback to the rest)."
        ),
    ],
    send_id: Annotated[
        str | None,
        typer.Argument(
            help="The send to act on (status without it lists the sends); for finish, the "
            "campaign id or key."
        ),
    ] = None,
    *,
    step: Annotated[
        str | None,
        typer.Option(help="The email step to send (needed when the campaign has several)."),
    ] = None,
    detach: Annotated[
        bool,
        typer.Option(help="Only create the send; a running `clarion serve` sends it."),
    ] = False,
    workspace: Annotated[
        str, typer.Option("--workspace", "-w", help="Workspace key.")
    ] = auth.DEFAULT_WORKSPACE,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Send a campaign's email step through SMTP with a progress bar (sent / failed /
    remaining, rate), or show, pause, resume or cancel a send. Sending again resumes it."""
    if target in ACTIONS:
        with_instance(lambda instance: _act(instance, target, send_id, workspace, as_json))
        return
    if target == FINISH:
        if send_id is None:
            problem = "name the campaign: clarion send finish CAMPAIGN [--step KEY]"
            raise InvalidInput(problem, [FieldProblem("campaign", problem)])
        campaign = send_id
        with_instance(
            lambda instance: _finish(
                instance, campaign, step=step, workspace=workspace, detach=detach, as_json=as_json
            )
        )
        return
    if send_id is not None:
        problem = f"unexpected argument {send_id!r}: to send, give only the campaign"
        raise InvalidInput(problem, [FieldProblem("send_id", problem)])
    with_instance(
        lambda instance: _send(
            instance, target, step=step, workspace=workspace, detach=detach, as_json=as_json
        )
    )


def _act(
    instance: Instance, action: str, send_id: str | None, workspace: str, as_json: bool
) -> None:
    ws = instance.workspace(workspace).id
    if send_id is None:
        if action != "status":
            problem = f"name the send to {action} (clarion send status lists them)"
            raise InvalidInput(problem, [FieldProblem("send_id", problem)])
        found = [
            delivery.progress(instance.store, ws, s.id)
            for s in delivery.list_sends(instance.store, ws)
        ]
        if as_json:
            print_json([p.as_dict() for p in found])
        elif not found:
            console.print("No sends yet: clarion send CAMPAIGN")
        else:
            console.print(_table(found))
        return
    if action == "pause":
        delivery.pause(instance.store, ws, send_id, clock=instance.clock)
    elif action == "resume":
        delivery.resume(instance.store, ws, send_id, clock=instance.clock)
    elif action == "cancel":
        delivery.cancel(instance.store, ws, send_id, clock=instance.clock)
    shown = delivery.progress(instance.store, ws, send_id)
    if as_json:
        print_json(shown.as_dict())
    else:
        console.print(_line(shown))
        if action == "resume":
            console.print("Resumed: `clarion send CAMPAIGN` or a running `clarion serve` sends it.")


def _send(
    instance: Instance,
    campaign: str,
    *,
    step: str | None,
    workspace: str,
    detach: bool,
    as_json: bool,
) -> None:
    ws = instance.workspace(workspace).id
    try:
        events = instance.open_events()
    except StoreBusy as busy:
        raise StoreBusy(
            f"{busy.message}; while `clarion serve` runs, start the send through its API "
            f"(POST /v1/campaigns/{campaign}/sends) or with --detach after stopping it",
            busy.details,
        ) from None
    content = ContentService(instance.store, clock=instance.clock, ids=instance.ids)
    started = delivery.start_send(
        instance.store,
        events,
        ws,
        campaign,
        step=step,
        clock=instance.clock,
        ids=instance.ids,
        actor=cli_actor(),
        check_template=content.email_renderer,
    )
    send = started.send
    if not as_json:
        verb = "Created" if started.created else "Found"
        err_console.print(
            f"{verb} send {send.id} of step {escape(send.step)}: {send.recipients:,} recipients"
        )
    if not detach and send.state.value == "running":
        _run(instance, ws, send.id, send.recipients, quiet=as_json)
    final = delivery.progress(instance.store, ws, send.id)
    if as_json:
        print_json(final.as_dict())
    else:
        console.print(_line(final))


def _finish(
    instance: Instance,
    campaign: str,
    *,
    step: str | None,
    workspace: str,
    detach: bool,
    as_json: bool,
) -> None:
    ws = instance.workspace(workspace).id
    send = delivery.step_send(instance.store, ws, campaign, step)
    try:
        events = instance.open_events()
    except StoreBusy as busy:
        raise StoreBusy(
            f"{busy.message}; while `clarion serve` runs, finish the send through its API "
            f"(POST /v1/sends/{send.id}/finish)",
            busy.details,
        ) from None
    found = delivery.finish_test(
        instance.store,
        events,
        ws,
        send.id,
        clock=instance.clock,
        ids=instance.ids,
        actor=cli_actor(),
    )
    if not as_json:
        verb = {"send_winner": "Winner", "send_fallback": "Fallback"}.get(found.action)
        if verb is None:
            err_console.print(f"Waiting: {escape(found.reason)}")
        else:
            err_console.print(
                f"{verb} {escape(found.variant or '')} for the other {found.released:,} "
                f"recipients: {escape(found.reason)}"
            )
    current = delivery.progress(instance.store, ws, send.id)
    if found.released and not detach and current.send.state.value == "running":
        _run(instance, ws, send.id, current.send.recipients, quiet=as_json)
    final = delivery.progress(instance.store, ws, send.id)
    if as_json:
        print_json({"rollout": found.as_dict(), "send": final.as_dict()})
    else:
        console.print(_line(final))


def _run(instance: Instance, ws: str, send_id: str, total: int, *, quiet: bool) -> None:
    bar = Progress(
        TextColumn("Sending"),
        BarColumn(),
        TextColumn(
            "{task.fields[sent]:,} sent · {task.fields[failed]:,} failed · "
            "{task.fields[remaining]:,} remaining · {task.fields[rate]}"
        ),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=quiet,
    )
    task = bar.add_task("send", total=max(total, 1), sent=0, failed=0, remaining=total, rate="-")
    last = 0.0

    def update(_: str) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < _REFRESH:
            return
        last = now
        shown = delivery.progress(instance.store, ws, send_id)
        rate = f"{shown.rate_per_second:,.0f}/s" if shown.rate_per_second else "-"
        bar.update(
            task,
            completed=total - shown.remaining,
            sent=shown.counts.get("sent", 0),
            failed=shown.counts.get("failed", 0),
            remaining=shown.remaining,
            rate=rate,
        )

    worker, pool = build_worker(instance, on_progress=update)
    # This process holds the embedded event store, so no other worker runs: whatever a
    # previous run left in flight is taken back (rows left in `sending` are counted).
    worker.recover(everything=True)

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):  # Ctrl-C: finish the group, then stop
            loop.add_signal_handler(signal.SIGINT, stop.set)
        try:
            await worker.run_send(send_id, stop)
        finally:
            await pool.close()

    with bar:
        asyncio.run(go())


def _line(shown: SendProgress) -> str:
    data = shown.as_dict()
    rate = f", {data['rate_per_second']:,.0f}/s" if data["rate_per_second"] else ""
    doubt = f", {data['in_doubt']} in doubt" if data["in_doubt"] else ""
    held = f", {data['held']:,} held for the test's winner" if data["held"] else ""
    return (
        f"Send {data['id']} ({escape(data['step'])}) is {data['state']}: "
        f"{data['sent']:,} sent, {data['failed']:,} failed, {data['skipped']:,} skipped, "
        f"{data['remaining']:,} remaining of {data['recipients']:,}{held}{rate}{doubt}"
    )


def _table(found: list[SendProgress]) -> Table:
    table = Table(title="Sends", title_justify="left")
    columns = ("id", "step", "state", "sent", "failed", "skipped", "remaining", "in doubt")
    for column in columns:
        table.add_column(column, justify="right" if column in columns[3:] else "left")
    for shown in found:
        d = shown.as_dict()
        table.add_row(
            d["id"],
            escape(d["step"]),
            d["state"],
            f"{d['sent']:,}",
            f"{d['failed']:,}",
            f"{d['skipped']:,}",
            f"{d['remaining']:,}",
            str(d["in_doubt"]),
        )
    return table
