"""How the CLI shows things: Rich consoles, error sentences, campaign views."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clarion.campaigns.contracts import Campaign, Transition
from clarion.campaigns.lifecycle import allowed_from
from clarion.core.errors import ClarionError

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

STATE_STYLE = {
    "draft": "dim",
    "scheduled": "cyan",
    "running": "green",
    "paused": "yellow",
    "completed": "blue",
    "cancelled": "red",
}


def print_error(exc: ClarionError) -> None:
    """One clear sentence, then the field problems if there are any."""
    err_console.print(f"[bold red]Error:[/] {escape(exc.message)}")
    problems = exc.details.get("problems", [])
    if len(problems) == 1 and problems[0]["problem"] in exc.message:
        return  # the sentence already says it all
    for problem in problems:
        err_console.print(f"  - {escape(problem['path'])}: {escape(problem['problem'])}")


def print_json(data: Any) -> None:
    console.out(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "key": campaign.key,
        "state": campaign.state.value,
        "allowed_transitions": allowed_from(campaign.state),
        "revision": campaign.revision,
        "created_at": campaign.created_at.isoformat(),
        "updated_at": campaign.updated_at.isoformat(),
        "plan": campaign.plan.model_dump(mode="json"),
    }


def state_text(state: str) -> str:
    return f"[{STATE_STYLE.get(state, '')}]{state}[/]"


def campaigns_table(campaigns: list[Campaign]) -> Table:
    table = Table(title="Campaigns", title_justify="left")
    for column in ("key", "name", "state", "dates", "budget", "KPIs", "id"):
        table.add_column(column, overflow="fold")
    for c in campaigns:
        p = c.plan
        table.add_row(
            escape(c.key),
            escape(p.name),
            state_text(c.state.value),
            f"{p.start_date} → {p.end_date}",
            f"{p.budget.total:,} {p.currency}",
            str(len(p.kpis)),
            c.id,
        )
    return table


def campaign_view(campaign: Campaign, transitions: list[Transition]) -> list[Any]:
    """A campaign as panels and tables: plan, KPI targets, budget split, hypotheses, history."""
    p = campaign.plan
    days = (p.end_date - p.start_date).days + 1
    head = (
        f"[bold]{escape(p.name)}[/]  ({escape(p.key)}, {campaign.id})\n"
        f"state {state_text(campaign.state.value)} · revision {campaign.revision} · "
        f"next: {', '.join(allowed_from(campaign.state)) or 'none'}\n"
        f"{p.start_date} → {p.end_date} ({days} days) · audience: {escape(p.audience or '-')}\n\n"
        f"[bold]Objective[/] {escape(p.objective)}"
    )
    parts: list[Any] = [Panel(head, title="Campaign", title_align="left")]

    kpis = Table(title="KPI targets", title_justify="left")
    kpis.add_column("metric")
    kpis.add_column("target")
    for k in p.kpis:
        kpis.add_row(escape(k.metric), escape(str(k).removeprefix(k.metric + " ")))
    parts.append(kpis)

    budget = Table(title=f"Budget {p.budget.total:,} {p.currency}", title_justify="left")
    budget.add_column("channel")
    budget.add_column("amount", justify="right")
    budget.add_column("share", justify="right")
    for channel, amount in p.budget.split.items():
        share = f"{amount / p.budget.total:.0%}" if p.budget.total else "-"
        budget.add_row(escape(channel), f"{amount:,}", share)
    parts.append(budget)

    if p.hypotheses:
        lines = []
        for h in p.hypotheses:
            groups = " vs ".join(
                ", ".join(f"{d}={escape(v)}" for d, v in g.items()) for g in h.groups
            )
            ratio = f" by ≥ {h.min_ratio}×" if h.min_ratio else ""
            lines.append(
                f"[bold]{escape(h.key)}[/] {escape(h.statement)}\n"
                f"  {h.metric}: {groups} — expected {h.expected}{ratio}"
            )
        parts.append(Panel("\n".join(lines), title="Pre-registered hypotheses", title_align="left"))

    b = p.brief
    brief = (
        f"[bold]Message[/] {escape(b.message or '-')}\n"
        f"[bold]Call to action[/] {escape(b.call_to_action or '-')}\n"
        f"[bold]Timing[/] {escape(b.timing or '-')}\n"
        f"[bold]Channels[/] {escape(', '.join(b.channels) or '-')}"
    )
    parts.append(Panel(brief, title="Brief", title_align="left"))

    history = Table(title="Lifecycle", title_justify="left")
    for column in ("at", "from", "to", "by", "reason"):
        history.add_column(column, overflow="fold")
    for t in transitions:
        history.add_row(
            t.at.isoformat(timespec="seconds"),
            t.from_state.value if t.from_state else "-",
            state_text(t.to_state.value),
            escape(t.actor),
            escape(t.reason),
        )
    parts.append(history)
    return parts


class FileProgress:
    """A Rich progress bar over a file's bytes, counting rows, on stderr (for imports)."""

    def __init__(self, path: Path, size: int) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[rows]:,} rows"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        )
        self._task = self._bar.add_task(f"Importing {escape(path.name)}", total=size, rows=0)

    def __enter__(self) -> FileProgress:
        self._bar.start()
        return self

    def __call__(self, rows: int, bytes_read: int) -> None:
        self._bar.update(self._task, completed=bytes_read, rows=rows)

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()
