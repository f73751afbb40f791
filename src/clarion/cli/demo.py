"""`clarion demo`: a whole campaign against the simulated market, then its dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clarion.cli.output import console, err_console, print_json
from clarion.demo.run import DemoOptions, DemoResult, run_demo

VERDICT_STYLE = {"met": "green", "missed": "red", "inconclusive": "yellow"}


def demo_command(
    *,
    contacts: Annotated[
        int, typer.Option("--contacts", help="Simulated people (100 to 1,000,000).")
    ] = 20_000,
    days: Annotated[int, typer.Option("--days", help="Campaign days (5 to 90).")] = 30,
    seed: Annotated[int, typer.Option("--seed", help="Seed: the same seed, the same run.")] = 7,
    out: Annotated[
        Path,
        typer.Option("--out", help="A new directory for the installation, plan and report."),
    ] = Path("clarion-demo"),
    serve: Annotated[
        bool,
        typer.Option("--serve/--no-serve", help="Serve the dashboard when the run is done."),
    ] = True,
    port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8000,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run's summary as JSON.")
    ] = False,
) -> None:
    """Plan, target, deliver, track, measure, decide and report one campaign against a
    simulated market, through Clarion's real edges (SMTP, HTTP), in simulated time; then
    serve the dashboard. Everything lands in --out: the plan files, the installation
    (open it with CLARION_DATA_DIR=OUT/data) and the report (HTML, PDF, JSON)."""
    options = DemoOptions(out=out, contacts=contacts, days=days, seed=seed)
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
    )
    with bar:
        task = bar.add_task("simulated days", total=days)

        def progress(phase: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_demo(options, progress)
    sandbox = result.sandbox
    assert sandbox is not None
    try:
        if as_json:
            print_json(_summary(result))
        else:
            _print(result)
        if serve:
            _serve(result, port)
    finally:
        sandbox.instance.close()


def _summary(result: DemoResult) -> dict[str, Any]:
    return {
        "out": str(result.out),
        "files": {k: str(v) for k, v in result.files.items()},
        "seconds": {k: round(v, 1) for k, v in result.seconds.items()},
        "sends": result.sends,
        "simulation": result.report["simulation"],
        "kpis": result.report["kpis"],
        "hypotheses": result.report["hypotheses"],
    }


def _print(result: DemoResult) -> None:
    report = result.report
    kpis = Table(title="KPI targets vs results")
    for column in ("metric", "target", "measured", "95% interval", "verdict"):
        kpis.add_column(column, justify="left" if column in ("metric", "verdict") else "right")
    for kpi in report["kpis"]:
        measured = kpi.get("actual") or {}
        verdict = str(kpi.get("verdict"))
        kpis.add_row(
            escape(str(kpi["metric"])),
            escape(str(kpi.get("target", ""))),
            _number(measured.get("value")),
            f"{_number(measured.get('low'))} – {_number(measured.get('high'))}"
            if measured
            else "-",
            f"[{VERDICT_STYLE.get(verdict, 'white')}]{escape(verdict)}[/]",
        )
    console.print(kpis)
    for hypothesis in report["hypotheses"]:
        console.print(
            f"Hypothesis [bold]{escape(str(hypothesis['key']))}[/]: "
            f"{escape(str(hypothesis.get('verdict')))} — {escape(str(hypothesis.get('statement')))}"
        )
    truth = result.truth
    console.print(
        f"Subject-line test: {escape(str(truth['decision']))} "
        f"({escape(str(truth['decision_text']))}); the simulator's truth: variant "
        f"{escape(str(truth['true_best_variant']))} opens best; "
        f"{'agrees' if truth['agrees_with_truth'] else 'DISAGREES'}."
    )
    regret = result.regret
    console.print(
        f"Budget allocator: regret {regret.regret:.1%} against the oracle split "
        f"(an even split held fixed: {regret.even_regret:.1%}); spent {regret.spent:,.2f}."
    )
    for send in result.sends:
        console.print(
            f"Email step {escape(str(send['step']))}: {send['sent']:,} sent, "
            f"{send['failed']:,} failed, {send['skipped']:,} skipped"
        )
    times = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    console.print(f"Timings: {times}")
    for fmt, path in result.files.items():
        console.print(f"Report ({fmt}): {escape(str(path))}")


def _number(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        return f"{value:,.4g}"
    return escape(str(value))


def _serve(result: DemoResult, port: int) -> None:
    import uvicorn  # noqa: PLC0415 - the web stack loads only to serve

    from clarion.api.app import create_app  # noqa: PLC0415

    sandbox = result.sandbox
    assert sandbox is not None
    console.print(
        f"\nDashboard: http://127.0.0.1:{port}/dashboard/  — sign in with the demo's secret key "
        f"{sandbox.keys.secret}\nPress Ctrl-C to stop."
    )
    uvicorn.run(
        create_app(sandbox.instance),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )
