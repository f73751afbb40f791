"""The main job: plan, target, deliver, track, measure, decide and report, against the market."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import yaml

from clarion.audiences.personas import parse_persona
from clarion.campaigns import service as campaigns
from clarion.campaigns.lifecycle import CampaignState
from clarion.campaigns.plan import parse_plan
from clarion.content.service import ContentService
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.delivery.sink import start_sink
from clarion.demo.director import CampaignDirector
from clarion.demo.plan import (
    CAMPAIGN,
    EXPERIMENT,
    PAID_DAILY,
    PERSONAS,
    SUBJECT_LIFT,
    SUBJECTS,
    TEMPLATE_BODY,
    TEMPLATES,
    DemoPlan,
)
from clarion.demo.regret import AllocatorRegret, allocator_regret
from clarion.experiments import service as experiments
from clarion.experiments.design import read_design
from clarion.optimize import service as budget
from clarion.optimize.files import read_budget
from clarion.reports.render_html import report_html
from clarion.reports.render_json import report_json
from clarion.reports.render_pdf import report_pdf
from clarion.reports.service import report_and_learn
from clarion.settings import SmtpSettings
from clarion.simulate.email_behaviour import EmailParameters
from clarion.simulate.inbox import Mailboxes
from clarion.simulate.market import Scenario, SimulatedMarket
from clarion.simulate.paid_market import PaidMarket
from clarion.simulate.population import generate_population
from clarion.simulate.sandbox import Sandbox, open_sandbox

ACTOR: Final = "demo"
START: Final = date(2027, 3, 1)
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class DemoOptions:
    """What `clarion demo` runs: how many people, how many days, the seed and where."""

    out: Path
    contacts: int = 20_000
    days: int = 30
    seed: int = 7
    start: date = START
    # The market's truth about the two subject lines (log-odds of a human open): what the
    # subject-line test should find. Not a CLI option: tests rehearse other truths with it.
    subject_lift: Mapping[str, float] = field(default_factory=lambda: dict(SUBJECT_LIFT))

    def problems(self) -> list[FieldProblem]:
        """What is wrong with these options, option by option."""
        checks = (
            ("--contacts", 100 <= self.contacts <= 1_000_000, "must be between 100 and 1,000,000"),
            ("--days", 5 <= self.days <= 90, "must be between 5 and 90"),
        )
        return [FieldProblem(name, problem) for name, ok, problem in checks if not ok]


@dataclass
class DemoResult:
    """What the run produced: the report files, its summary, the truth and the timings."""

    out: Path
    report: dict[str, Any]
    files: dict[str, Path]
    truth: dict[str, Any]
    regret: AllocatorRegret
    sends: list[dict[str, Any]]
    seconds: dict[str, float] = field(default_factory=dict)
    sandbox: Sandbox | None = None


def run_demo(options: DemoOptions, on_progress: Progress | None = None) -> DemoResult:
    """Run the whole loop in a new installation under ``options.out``; the sandbox stays open."""
    problems = options.problems()
    if options.out.exists() and any(options.out.iterdir()):
        problems.append(FieldProblem("--out", f"{options.out} exists and is not empty"))
    if problems:
        raise InvalidInput(f"demo: {problems[0].path} {problems[0].problem}", problems)
    began = time.monotonic()
    seconds: dict[str, float] = {}
    plan = DemoPlan(options.start, options.days)
    out = options.out
    (out / "plan").mkdir(parents=True, exist_ok=True)
    personas = tuple(parse_persona(p) for p in PERSONAS)
    population = generate_population(personas, options.contacts, options.seed)
    mailboxes = Mailboxes(population)
    sink = start_sink(mailboxes)
    try:
        smtp = SmtpSettings(
            host="127.0.0.1",
            port=sink.port,
            from_address="Clarion Ops <spring@news.clarion.example>",
            sending_domain="news.clarion.example",
            rate_per_second=0,
            max_connections=4,
        )
        box = open_sandbox(out / "data", start=plan.at(0, 0), seed=options.seed, smtp=smtp)
        campaign_id = _set_up(box, plan, out / "plan")
        seconds["set-up"] = time.monotonic() - began
        market_began = time.monotonic()
        scenario = Scenario(
            contacts=options.contacts,
            days=options.days,
            seed=options.seed,
            start=plan.at(0, 0),
            personas=personas,
            email=EmailParameters(subject_open=dict(options.subject_lift)),
            paid_daily_budget=PAID_DAILY,
            campaign_id=campaign_id,
            subjects={subject: key for key, subject in SUBJECTS.items()},
        )
        schedule: dict[int, list[Any]] = {}
        for step, day in plan.email_days().items():
            schedule.setdefault(day, []).append((plan.at(day, 9), step))
        paid = PaidMarket.generate(
            options.seed, clock=box.clock, start=plan.start, currency=scenario.currency
        )
        director = CampaignDirector(
            box.instance,
            workspace_id=box.workspace_id,
            campaign=CAMPAIGN,
            secret_key=box.keys.secret,
            schedule=schedule,
            platforms=list(paid.platforms.values()),
            days=options.days,
            seed=options.seed,
            daily=PAID_DAILY,
        )
        _set_budget(box, plan, paid, out / "plan")
        market = SimulatedMarket(
            box.instance,
            box.clock,
            scenario,
            workspace_id=box.workspace_id,
            keys=box.keys,
            workdir=out / "data",
            population=population,
            paid=paid,
            mailboxes=mailboxes,
            director=director,
            server_process=True,  # the server and its sender get a core of their own
        )
        market.run(
            on_progress=None
            if on_progress is None
            else lambda done, total: on_progress("days", done, total)
        )
        seconds["campaign"] = time.monotonic() - market_began
        report_began = time.monotonic()
        result = _finish(box, plan, market, director, out)
        seconds["report"] = time.monotonic() - report_began
    finally:
        sink.stop()
    seconds["total"] = time.monotonic() - began
    result.seconds = seconds
    result.sandbox = box
    return result


def _write_yaml(path: Path, data: Any, comment: str) -> None:
    path.write_text(f"# {comment}\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _set_up(box: Sandbox, plan: DemoPlan, plan_dir: Path) -> str:
    """Content, personas, segments, the campaign and its subject-line test, as files and stored."""
    store, clock, ids, ws = box.instance.store, box.clock, box.instance.ids, box.workspace_id
    content = ContentService(store, clock=clock, ids=ids)
    (plan_dir / "templates").mkdir(exist_ok=True)
    for key, (subject, intro, cta) in TEMPLATES.items():
        body = TEMPLATE_BODY.replace("{{ intro }}", intro).replace("{{ cta }}", cta)
        (plan_dir / "templates" / f"{key}.mjml").write_text(body)
        content.add(ws, key, "mjml", actor=ACTOR, body=body, subject=subject)
        content.publish(ws, key, actor=ACTOR)
    campaign_file = plan.campaign()
    _write_yaml(plan_dir / "campaign.yaml", campaign_file, "The demo's campaign file.")
    applied = campaigns.apply_plan(
        store, ws, parse_plan(campaign_file, "campaign.yaml"), clock=clock, ids=ids, actor=ACTOR
    )
    design_file = plan.experiment()
    _write_yaml(plan_dir / "experiment.yaml", design_file, "The teaser's subject-line test.")
    experiments.create_experiment(
        store, ws, read_design(design_file, "experiment.yaml"), clock=clock, ids=ids, actor=ACTOR
    )
    experiments.start(store, ws, EXPERIMENT, clock=clock, actor=ACTOR)
    return applied.campaign.id


def _set_budget(box: Sandbox, plan: DemoPlan, paid: PaidMarket, plan_dir: Path) -> None:
    """The paid channels' allocation units and the allocator in auto-apply; then launch."""
    store, clock, ids, ws = box.instance.store, box.clock, box.instance.ids, box.workspace_id
    units = [(u.channel, u.ad_set, u.audience) for u in paid.units()]
    budget_file = plan.budget_units(units)
    _write_yaml(plan_dir / "budget.yaml", budget_file, "Allocation units and the allocator.")
    checked = read_budget(budget_file, "budget.yaml")
    budget.set_units(store, ws, CAMPAIGN, checked.units, clock=clock, ids=ids)
    if checked.policy is not None:
        budget.set_policy(store, ws, CAMPAIGN, checked.policy, clock=clock, actor=ACTOR)
    for state in (CampaignState.SCHEDULED, CampaignState.RUNNING):
        campaigns.transition(store, ws, CAMPAIGN, state, clock=clock, actor=ACTOR)


def _finish(
    box: Sandbox, plan: DemoPlan, market: SimulatedMarket, director: CampaignDirector, out: Path
) -> DemoResult:
    """Decide the test, close the campaign, write the report in three formats, judge it."""
    store, clock, ids, ws = box.instance.store, box.clock, box.instance.ids, box.workspace_id
    events = box.instance.open_events()
    clock.set(max(clock.now(), plan.at(plan.days, 0)))
    decision = experiments.record_decision(
        store, events, ws, EXPERIMENT, clock=clock, ids=ids, actor=ACTOR
    )
    campaigns.transition(store, ws, CAMPAIGN, CampaignState.COMPLETED, clock=clock, actor=ACTOR)
    report = report_and_learn(store, events, ws, CAMPAIGN, clock=clock, ids=ids)
    files = {fmt: out / f"report.{fmt}" for fmt in ("json", "html", "pdf")}
    html = report_html(report)  # the charts are drawn once, for the page and the PDF
    files["html"].write_text(html)
    files["pdf"].write_bytes(report_pdf(report, html))
    rates = {
        variant: sums.open_seen / sums.delivered
        for variant, sums in market.ledger.email.items()
        if variant in SUBJECTS and sums.delivered
    }
    best = max(rates, key=lambda v: rates[v]) if rates else None
    truth = {
        "true_open_rates": rates,
        "true_best_variant": best,
        "decision": str(decision.outcome),
        "decision_winner": decision.winner,
        "decision_text": decision.explanation,
        "agrees_with_truth": str(decision.outcome) == "inconclusive" or decision.winner == best,
    }
    regret = allocator_regret(
        market.paid,
        box.instance.store,
        workspace_id=ws,
        campaign=CAMPAIGN,
        start=plan.start,
        days=plan.days,
        daily=PAID_DAILY,
    )
    summary = report_json(report)
    summary["simulation"] = {"truth": truth, "allocator_regret": regret.as_dict()}
    files["json"].write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    return DemoResult(
        out=out,
        report=summary,
        files=files,
        truth=truth,
        regret=regret,
        sends=director.sends_done,
    )
