"""The experiment's life on real stores: create, start, expose, results, stop, roll out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clarion.auth.contracts import Workspace
from clarion.core.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from clarion.experiments import service
from clarion.experiments.design import read_design
from clarion.experiments.lifecycle import ExperimentState
from clarion.instance import Instance

from experiment_world import campaign, design, expose_and_click, outcome_rows, running


def results(instance: Instance, ws: Workspace, key: str):
    events = instance.open_events()
    return service.results(instance.store, events, ws.id, key, clock=instance.clock)


def test_a_draft_experiment_belongs_to_a_campaign_and_carries_its_plan(
    instance: Instance, workspace: Workspace
) -> None:
    campaign_id = campaign(instance, workspace.id)
    d = read_design(design(minimum_detectable_effect=0.2, baseline=0.1))
    created = service.create_experiment(
        instance.store, workspace.id, d, clock=instance.clock, ids=instance.ids, actor="test"
    )
    assert created.state is ExperimentState.DRAFT
    assert created.campaign_id == campaign_id
    assert created.plan.sample_size and created.plan.method == "alpha_spending"
    assert service.list_experiments(instance.store, workspace.id, "spring-launch-2027") == [created]
    with pytest.raises(Conflict, match="already exists"):
        service.create_experiment(
            instance.store, workspace.id, d, clock=instance.clock, ids=instance.ids, actor="t"
        )


def test_an_experiment_on_an_unknown_campaign_is_refused(
    instance: Instance, workspace: Workspace
) -> None:
    d = read_design(design(campaign="nope"))
    with pytest.raises(NotFound, match="campaign 'nope'"):
        service.create_experiment(
            instance.store, workspace.id, d, clock=instance.clock, ids=instance.ids, actor="t"
        )


def test_only_a_running_experiment_exposes_contacts(
    instance: Instance, workspace: Workspace
) -> None:
    campaign(instance, workspace.id)
    d = read_design(design())
    service.create_experiment(
        instance.store, workspace.id, d, clock=instance.clock, ids=instance.ids, actor="t"
    )
    with pytest.raises(Conflict, match="only a running experiment"):
        service.expose(
            instance.store,
            instance.open_events(),
            workspace.id,
            d.key,
            ["c1"],
            clock=instance.clock,
        )


def test_the_lifecycle_goes_one_way(instance: Instance, workspace: Workspace) -> None:
    key = running(instance, workspace.id)
    with pytest.raises(IllegalTransition, match="cannot go from running to rolled_out"):
        service.rollout(instance.store, workspace.id, key, clock=instance.clock, actor="t")
    with pytest.raises(IllegalTransition, match="cannot go from running to running"):
        service.start(instance.store, workspace.id, key, clock=instance.clock, actor="t")


def test_a_clear_winner_is_declared_and_rolled_out(
    instance: Instance, workspace: Workspace
) -> None:
    key = running(instance, workspace.id)
    expose_and_click(instance, workspace.id, key, {"a": 0.10, "b": 0.20})
    instance.clock.advance(timedelta(days=1))

    found = results(instance, workspace, key)
    assert found.method == "always_valid"
    (b,) = found.primary
    assert b.challenger == "b" and b.improves
    assert b.estimate == pytest.approx(b.mean_challenger - b.mean_baseline)
    assert b.ci_lower > 0 and b.chance_to_beat > 0.99

    decision = service.stop(
        instance.store,
        instance.open_events(),
        workspace.id,
        key,
        clock=instance.clock,
        ids=instance.ids,
        actor="t",
    )
    assert decision.outcome == "winner" and decision.winner == "b"
    assert decision.explanation.startswith("B beats A on click rate by +")
    assert "pp (95% CI +" in decision.explanation and "chance to beat" in decision.explanation
    stats = decision.inputs["statistics"]["click_rate"]
    assert sum(row["n"] for row in stats) == 2000

    rolled = service.rollout(instance.store, workspace.id, key, clock=instance.clock, actor="t")
    assert rolled.state is ExperimentState.ROLLED_OUT and rolled.rolled_out_variant == "b"


def test_no_difference_is_inconclusive_and_rollout_then_needs_a_reason(
    instance: Instance, workspace: Workspace
) -> None:
    key = running(instance, workspace.id)
    expose_and_click(instance, workspace.id, key, {"a": 0.10, "b": 0.10}, contacts=600)
    decision = service.stop(
        instance.store,
        instance.open_events(),
        workspace.id,
        key,
        clock=instance.clock,
        ids=instance.ids,
        actor="t",
    )
    assert decision.outcome == "inconclusive" and decision.winner is None
    assert decision.explanation.startswith("Inconclusive: nothing beats A on click rate yet")
    assert "600 contacts exposed" in decision.explanation
    with pytest.raises(Conflict, match="has no winner"):
        service.rollout(instance.store, workspace.id, key, clock=instance.clock, actor="t")
    with pytest.raises(InvalidInput, match="needs a reason"):
        service.rollout(
            instance.store, workspace.id, key, clock=instance.clock, actor="t", variant="b"
        )
    rolled = service.rollout(
        instance.store,
        workspace.id,
        key,
        clock=instance.clock,
        actor="t",
        variant="a",
        reason="keep the current subject line",
    )
    assert rolled.rolled_out_variant == "a"


def test_machine_opens_do_not_count(instance: Instance, workspace: Workspace) -> None:
    key = running(instance, workspace.id, primary_metric="open_rate")
    events = instance.open_events()
    assigned = expose_and_click(
        instance, workspace.id, key, {"a": 0.2, "b": 0.2}, event_type="email_open", contacts=400
    )
    experiment = service.get_experiment(instance.store, workspace.id, key)
    scanner = outcome_rows(
        workspace.id,
        experiment.campaign_id,
        assigned,
        {"a": 0.0, "b": 1.0},
        event_type="email_open",
        at=instance.clock.now() + timedelta(minutes=1),
        seed=9,
        is_machine=True,
    )
    events.append("events", scanner)  # a link scanner "opens" every B mail
    instance.clock.advance(timedelta(hours=3))
    (b,) = results(instance, workspace, key).primary
    assert b.mean_challenger < 0.35 and not b.improves


def test_events_before_exposure_and_of_other_campaigns_do_not_count(
    instance: Instance, workspace: Workspace
) -> None:
    key = running(instance, workspace.id)
    events = instance.open_events()
    ids = [f"c{i}" for i in range(200)]
    assigned = service.expose(instance.store, events, workspace.id, key, ids, clock=instance.clock)
    experiment = service.get_experiment(instance.store, workspace.id, key)
    early = outcome_rows(
        workspace.id,
        experiment.campaign_id,
        assigned,
        {"a": 1, "b": 1},
        event_type="email_click",
        at=instance.clock.now() - timedelta(hours=1),
        seed=2,
    )
    other = outcome_rows(
        workspace.id,
        "cmp_other",
        assigned,
        {"a": 1, "b": 1},
        event_type="email_click",
        at=instance.clock.now() + timedelta(hours=1),
        seed=3,
    )
    events.append("events", early + other)
    instance.clock.advance(timedelta(hours=3))
    found = results(instance, workspace, key)
    assert [c.mean_baseline for c in found.primary] == [0.0]
    assert found.exposed == 200


def test_exposing_again_keeps_the_arm_and_counts_the_contact_once(
    instance: Instance, workspace: Workspace
) -> None:
    key = running(instance, workspace.id)
    events = instance.open_events()
    first = service.expose(
        instance.store, events, workspace.id, key, ["c1", "c2", "c1"], clock=instance.clock
    )
    instance.clock.advance(timedelta(hours=2))
    again = service.expose(
        instance.store, events, workspace.id, key, ["c2", "c1"], clock=instance.clock
    )
    assert first == again
    assert results(instance, workspace, key).exposed == 2


def test_hostile_contact_ids_are_refused_by_field(instance: Instance, workspace: Workspace) -> None:
    key = running(instance, workspace.id)
    with pytest.raises(InvalidInput) as info:
        service.expose(
            instance.store,
            instance.open_events(),
            workspace.id,
            key,
            ["ok", "x" * 65],
            clock=instance.clock,
        )
    assert info.value.problems[0].path == "contact_ids[1]"


def test_a_sample_ratio_mismatch_blocks_the_decision(
    instance: Instance, workspace: Workspace
) -> None:
    key = running(instance, workspace.id)
    events = instance.open_events()
    assigned = expose_and_click(instance, workspace.id, key, {"a": 0.1, "b": 0.3})
    # A logging bug: half of A's exposures were recorded twice under another experiment run
    # and the other half lost; the split no longer matches 50/50.
    lost = [c for c, v in assigned.items() if v == "a"][:400]
    events.append(
        "events",
        [
            {
                "event_id": f"bogus-{c}",
                "workspace_id": workspace.id,
                "type": "experiment_exposure",
                "ts": instance.clock.now() - timedelta(days=1),
                "contact_id": c + "-ghost",
                "variant": "b",
                "properties": '{"experiment": "' + key + '"}',
            }
            for c in lost
        ],
    )
    decision = service.record_decision(
        instance.store,
        events,
        workspace.id,
        key,
        clock=instance.clock,
        ids=instance.ids,
        actor="t",
    )
    assert decision.outcome == "srm_blocked" and decision.winner is None
    assert decision.explanation.startswith("No decision: sample-ratio mismatch")


def test_a_winner_that_breaches_a_guardrail_is_not_declared(
    instance: Instance, workspace: Workspace
) -> None:
    key = running(instance, workspace.id, guardrail_metrics=["unsubscribe_rate"])
    assigned = expose_and_click(instance, workspace.id, key, {"a": 0.10, "b": 0.20})
    experiment = service.get_experiment(instance.store, workspace.id, key)
    unsubscribes = outcome_rows(
        workspace.id,
        experiment.campaign_id,
        assigned,
        {"a": 0.01, "b": 0.08},
        event_type="unsubscribe",
        at=instance.clock.now() + timedelta(hours=2),
        seed=5,
    )
    instance.open_events().append("events", unsubscribes)
    instance.clock.advance(timedelta(hours=3))
    decision = service.record_decision(
        instance.store,
        instance.open_events(),
        workspace.id,
        key,
        clock=instance.clock,
        ids=instance.ids,
        actor="t",
    )
    assert decision.outcome == "guardrail_breached", decision.results["details"]
    assert decision.winner is None
    assert "but worsens unsubscribe rate +" in decision.explanation
    assert service.decisions(instance.store, workspace.id, key)[-1].id == decision.id


def test_a_planned_horizon_reads_daily_looks_against_alpha_spending(
    instance: Instance, workspace: Workspace
) -> None:
    key = running(instance, workspace.id, minimum_detectable_effect=0.5, baseline=0.1)
    for day in range(3):
        expose_and_click(
            instance,
            workspace.id,
            key,
            {"a": 0.1, "b": 0.1},
            contacts=300,
            prefix=f"d{day}-",
            seed=day,
        )
        instance.clock.advance(timedelta(days=1))
    found = results(instance, workspace, key)
    assert found.method == "alpha_spending"
    assert len(found.looks) == 3 and found.looks == tuple(sorted(found.looks))
    assert found.information_fraction == pytest.approx(found.looks[-1])
    (b,) = found.primary
    # The repeated confidence interval at an early look is wider than the naive one.
    assert b.ci_upper - b.ci_lower > b.fixed_ci_upper - b.fixed_ci_lower


def test_revenue_per_contact_is_a_mean_over_exposed_contacts(
    instance: Instance, workspace: Workspace
) -> None:
    key = running(instance, workspace.id, primary_metric="revenue_per_contact")
    events = instance.open_events()
    ids = [f"c{i}" for i in range(1000)]
    assigned = service.expose(instance.store, events, workspace.id, key, ids, clock=instance.clock)
    experiment = service.get_experiment(instance.store, workspace.id, key)
    rows = outcome_rows(
        workspace.id,
        experiment.campaign_id,
        assigned,
        {"a": 0.1, "b": 0.1},
        event_type="conversion",
        at=instance.clock.now() + timedelta(hours=1),
        seed=4,
        revenue={"a": 50.0, "b": 80.0},
    )
    events.append("events", rows)
    instance.clock.advance(timedelta(hours=3))
    (b,) = results(instance, workspace, key).primary
    buyers_a = sum(1 for r in rows if assigned[r["contact_id"]] == "a")
    assert b.mean_baseline == pytest.approx(50.0 * buyers_a / b.n_baseline)


def test_a_multivariate_test_reads_main_effects_and_names_the_best_combination(
    instance: Instance, workspace: Workspace
) -> None:
    key = running(
        instance,
        workspace.id,
        variants=[],
        factors=[
            {"key": "subject", "levels": ["plain", "question"]},
            {"key": "cta", "levels": ["buy", "try"]},
        ],
    )
    rates = {
        "subject=plain.cta=buy": 0.10,
        "subject=plain.cta=try": 0.10,
        "subject=question.cta=buy": 0.20,
        "subject=question.cta=try": 0.20,
    }
    expose_and_click(instance, workspace.id, key, rates, contacts=3000)
    found = results(instance, workspace, key)
    by_factor = {c.factor: c for c in found.primary}
    assert by_factor["subject"].challenger == "subject=question" and by_factor["subject"].improves
    assert not by_factor["cta"].significant
    decision = service.record_decision(
        instance.store,
        instance.open_events(),
        workspace.id,
        key,
        clock=instance.clock,
        ids=instance.ids,
        actor="t",
    )
    assert decision.outcome == "winner"
    assert decision.winner == "subject=question.cta=buy"
