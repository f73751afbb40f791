"""A report built from stored facts: KPI verdicts, hypothesis verdicts, findings, learnings."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from report_world import HOSTILE, PLAN, SPIKE_DAY, Counts, build

from clarion.analytics.scope import scoped
from clarion.auth.contracts import Workspace
from clarion.campaigns import service as campaigns
from clarion.campaigns.plan import parse_plan
from clarion.core.clock import SimulatedClock
from clarion.instance import Instance
from clarion.reports import learning_log
from clarion.reports.build import build_report
from clarion.reports.contracts import Report
from clarion.reports.findings import best_and_worst
from clarion.reports.service import report_and_learn

Z = 1.959963984540054
AFTER_THE_END = datetime(2027, 3, 12, tzinfo=UTC)


@pytest.fixture
def autumn(instance: Instance, workspace: Workspace, clock: SimulatedClock) -> Counts:
    """The campaign applied, its facts in the event store, the clock after its last day."""
    applied = campaigns.apply_plan(
        instance.store, workspace.id, parse_plan(PLAN), clock=clock, ids=instance.ids, actor="t"
    )
    assert instance.events is not None
    counts = build(instance.events, workspace.id, applied.campaign.id)
    clock.set(AFTER_THE_END)
    return counts


@pytest.fixture
def report(instance: Instance, workspace: Workspace, autumn: Counts) -> Report:
    assert instance.events is not None
    return build_report(instance.store, instance.events, workspace.id, "autumn", now=AFTER_THE_END)


def _rate(clicked: int, delivered: int) -> tuple[float, float]:
    p = clicked / delivered
    return p, math.sqrt(p * (1 - p) / delivered)


def test_kpi_verdicts_agree_with_a_computation_here(report: Report, autumn: Counts) -> None:
    verdicts = {k.metric: k for k in report.kpis}
    delivered, clicked = sum(autumn.delivered.values()), sum(autumn.clicked.values())
    p, se = _rate(clicked, delivered)
    assert p - Z * se < 0.20 < p + Z * se  # the interval straddles the target ...
    click_rate = verdicts["click_rate"]
    assert click_rate.actual is not None
    assert click_rate.actual.value == pytest.approx(p)
    assert click_rate.verdict == "inconclusive", click_rate.reason  # ... so: inconclusive
    opened, _ = _rate(autumn.opened, delivered)
    assert opened > 0.25 + 3 * Z * math.sqrt(0.25 * 0.75 / delivered)
    assert verdicts["open_rate"].verdict == "met"
    assert verdicts["sent"].verdict == "met"  # 1200 sent against 500 by the end
    assert verdicts["cost"].verdict == "missed"  # 10 days × 30 EUR against 100 EUR
    assert report.elapsed == 1.0


def test_hypotheses_are_judged_on_the_interval_of_the_ratio(report: Report, autumn: Counts) -> None:
    ops, ops_se = _rate(autumn.clicked["ops"], autumn.delivered["ops"])
    cfo, cfo_se = _rate(autumn.clicked["cfo"], autumn.delivered["cfo"])
    ratio = ops / cfo
    spread = Z * math.sqrt((ops_se / ops) ** 2 + (cfo_se / cfo) ** 2)
    low, high = ratio * math.exp(-spread), ratio * math.exp(spread)
    assert 1.5 < low < 2 < high < 4  # what the three verdicts below rest on
    judged = {h.key: h for h in report.hypotheses}
    for key, verdict in [
        ("ops-beats-cfo", "supported"),  # at least 1.5×: the whole interval is above
        ("ops-twice-cfo", "inconclusive"),  # 2×: the interval straddles it
        ("ops-four-times-cfo", "refuted"),  # 4×: the whole interval is below
    ]:
        h = judged[key]
        assert h.verdict == verdict, h.reason
        assert h.ratio is not None and h.ratio.value == pytest.approx(ratio)
        assert h.ratio.low == pytest.approx(low, rel=0.01)
        assert h.ratio.high == pytest.approx(high, rel=0.01)
        assert h.groups[0].measured.value == pytest.approx(ops)


def test_findings_name_best_and_worst_personas_with_their_intervals(report: Report) -> None:
    found = {f.id: f for f in report.findings}
    best, worst = found["best-persona"], found["worst-persona"]
    assert best.evidence["group"] == "ops" and best.evidence["distinguishable"]
    assert worst.evidence["group"] == "cfo" and worst.evidence["distinguishable"]
    assert best.evidence["low"] < best.evidence["value"] < best.evidence["high"]
    assert best.evidence["metric"] == "click_rate"  # the plan's first rate KPI


def test_a_best_whose_interval_overlaps_is_not_distinguishable(
    instance: Instance, workspace: Workspace, autumn: Counts
) -> None:
    assert instance.events is not None
    campaign = campaigns.get_campaign(instance.store, workspace.id, "autumn")
    # Everyone opened half their messages: no persona stands out on open rate.
    found = best_and_worst(
        scoped(instance.events, workspace.id), (campaign.id,), "open_rate", "persona"
    )
    assert found.findings and not any(f.evidence["distinguishable"] for f in found.findings)
    assert "not distinguishable" in found.findings[0].detail


def test_anomalies_bottleneck_and_empty_sections(report: Report, autumn: Counts) -> None:
    found = {f.id: f for f in report.findings}
    spikes = [f for f in report.findings if f.kind == "bounce_spike"]
    assert [f.evidence["day"] for f in spikes] == [f"2027-03-0{1 + SPIKE_DAY}"]
    assert spikes[0].evidence["n"] == len(PLAN_PERSONAS) * 40
    assert found["pacing-cost"].evidence["pacing"] == pytest.approx(3.0)
    assert found["bottleneck"].evidence["to_step"] == "conversion"
    assert found["bottleneck"].evidence["reached"] == 10
    sections = {n.section for n in report.notes}
    assert {"best and worst segment", "best and worst channel", "experiments"} <= sections
    assert "budget moves" in sections  # no allocator data: said, never made up


PLAN_PERSONAS = ("ops", "cfo", HOSTILE)


def test_recommendations_cite_findings_that_exist(report: Report) -> None:
    ids = {f.id for f in report.findings} | {f"hypothesis-{h.key}" for h in report.hypotheses}
    actions = {r.action for r in report.recommendations}
    assert {"focus", "retarget", "fix_pacing", "check_list"} <= actions
    for rec in report.recommendations:
        assert rec.evidence and set(rec.evidence) <= ids
    focus = next(r for r in report.recommendations if r.action == "focus")
    assert "persona ops" in focus.text


def test_learnings_go_to_the_log_and_a_new_report_replaces_them(
    instance: Instance, workspace: Workspace, autumn: Counts, clock: SimulatedClock
) -> None:
    assert instance.events is not None
    first = report_and_learn(
        instance.store, instance.events, workspace.id, "autumn", clock=clock, ids=instance.ids
    )
    logged = learning_log.entries(instance.store, workspace.id)
    assert {e.key for e in logged} == {item.key for item in first.learnings}
    assert "hypothesis-ops-beats-cfo" in {e.key for e in logged}
    assert "hypothesis-ops-twice-cfo" not in {e.key for e in logged}  # inconclusive: no lesson
    report_and_learn(
        instance.store, instance.events, workspace.id, "autumn", clock=clock, ids=instance.ids
    )
    assert len(learning_log.entries(instance.store, workspace.id)) == len(logged)
