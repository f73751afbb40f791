"""A decided experiment becomes a finding, a 'retire the losers' recommendation and a learning."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from report_world import PLAN

from clarion.auth.contracts import Workspace
from clarion.campaigns import service as campaigns
from clarion.campaigns.plan import parse_plan
from clarion.core.clock import SimulatedClock
from clarion.experiments import service as experiments
from clarion.experiments.design import read_design
from clarion.instance import Instance
from clarion.reports.build import build_report

DESIGN = {
    "key": "subject-test",
    "name": "Subject line test",
    "campaign": "autumn",
    "kind": "subject_line",
    "variants": [
        {"key": "a", "content": {"subject": "Autumn is here"}},
        {"key": "b", "content": {"subject": "Your autumn plan, ready"}},
    ],
    "primary_metric": "click_rate",
}


def test_a_winner_retires_the_other_variants(
    instance: Instance, workspace: Workspace, clock: SimulatedClock
) -> None:
    campaigns.apply_plan(
        instance.store, workspace.id, parse_plan(PLAN), clock=clock, ids=instance.ids, actor="t"
    )
    design = read_design(DESIGN)
    experiments.create_experiment(
        instance.store, workspace.id, design, clock=clock, ids=instance.ids, actor="t"
    )
    experiments.start(instance.store, workspace.id, design.key, clock=clock, actor="t")
    events = instance.open_events()
    contacts = [f"x{i:05d}" for i in range(2000)]
    assigned = experiments.expose(
        instance.store, events, workspace.id, design.key, contacts, clock=clock
    )
    campaign_id = experiments.get_experiment(instance.store, workspace.id, design.key).campaign_id
    rng = np.random.default_rng(3)
    rates = {"a": 0.10, "b": 0.20}
    at = clock.now() + timedelta(hours=1)
    events.append(
        "events",
        [
            {
                "event_id": f"k{i}",
                "workspace_id": workspace.id,
                "type": "email_click",
                "ts": at,
                "contact_id": contact,
                "campaign_id": campaign_id,
                "is_machine": False,
            }
            for i, (contact, variant) in enumerate(sorted(assigned.items()))
            if rng.random() < rates[variant]
        ],
    )
    clock.advance(timedelta(days=1))
    decided = experiments.stop(
        instance.store, events, workspace.id, design.key, clock=clock, ids=instance.ids, actor="t"
    )
    assert decided.outcome == "winner" and decided.winner == "b"

    report = build_report(instance.store, events, workspace.id, "autumn", now=clock.now())
    finding = next(f for f in report.findings if f.kind == "experiment")
    assert finding.id == "experiment-subject-test"
    assert finding.evidence["winner"] == "b" and finding.detail == decided.explanation
    retire = next(r for r in report.recommendations if r.action == "retire_variant")
    assert retire.evidence == (finding.id,)
    assert "Roll out variant b" in retire.text and "retire a" in retire.text
    assert finding.id in {item.key for item in report.learnings}
    assert "experiments" not in {n.section for n in report.notes}
