"""Designs: every problem named with its path; the MDE implies the sample size and the rule."""

from __future__ import annotations

import pytest

from clarion.core.errors import InvalidInput
from clarion.experiments.design import plan_for, read_design
from clarion.stats import mean_sample_size, proportion_sample_size

from experiment_world import design


def problems(data: dict) -> dict[str, str]:
    with pytest.raises(InvalidInput) as info:
        read_design(data)
    return {p.path: p.problem for p in info.value.problems}


@pytest.mark.parametrize(
    ("overrides", "path", "fragment"),
    [
        ({"variants": [{"key": "a"}]}, "variants", "at least two"),
        ({"variants": [{"key": "a"}, {"key": "a"}]}, "variants[1].key", "used twice"),
        ({"variants": [{"key": "a", "weight": -1}, {"key": "b"}]}, "variants[0].weight", ""),
        ({"primary_metric": "happiness"}, "primary_metric", "unknown metric"),
        ({"primary_metric": "cpa"}, "primary_metric", "cannot be tested yet"),
        ({"guardrail_metrics": ["click_rate"]}, "guardrail_metrics", "must not repeat"),
        ({"minimum_detectable_effect": 0.1}, "baseline", "needed"),
        ({"minimum_detectable_effect": 0.5, "baseline": 0.9}, "baseline", "below 1"),
        ({"stopping_rule": "alpha_spending"}, "stopping_rule", "planned horizon"),
        ({"kind": "telepathy"}, "kind", ""),
        ({"key": "Robert'); DROP TABLE experiments;--"}, "key", "pattern"),
        ({"name": "<script>alert(1)</script>\x00"}, "name", "control characters"),
        ({"surprise": 1}, "surprise", "unknown field"),
        (
            {"test_then_send": {"test_share": 0.2, "wait_hours": 4, "fallback": "z"}},
            "test_then_send.fallback",
            "no variant",
        ),
    ],
)
def test_a_bad_design_names_the_field_and_the_problem(overrides, path, fragment) -> None:
    found = problems(design(**overrides))
    assert path in found, found
    assert fragment in found[path]


def test_several_problems_are_reported_together() -> None:
    found = problems(design(primary_metric="happiness", variants=[{"key": "a"}]))
    assert {"primary_metric", "variants"} <= set(found)


def test_the_mde_implies_the_sample_size_of_the_two_proportion_test() -> None:
    d = read_design(design(minimum_detectable_effect=0.1, baseline=0.05))
    plan = plan_for(d)
    per_arm = int(proportion_sample_size(0.05, 0.055)[()])
    assert plan.sample_size_per_arm == per_arm
    assert plan.sample_size == 2 * per_arm
    assert plan.method == "alpha_spending"  # a planned horizon: spend alpha over the looks


def test_without_an_mde_there_is_no_horizon_and_results_are_always_valid() -> None:
    plan = plan_for(read_design(design()))
    assert plan.sample_size is None
    assert plan.method == "always_valid"


def test_a_b_n_test_splits_alpha_over_its_comparisons_when_sizing() -> None:
    three = design(
        variants=[{"key": "a"}, {"key": "b"}, {"key": "c"}],
        minimum_detectable_effect=0.1,
        baseline=0.05,
    )
    plan = plan_for(read_design(three))
    assert plan.comparisons == 2
    assert plan.alpha_per_comparison == pytest.approx(0.025)
    assert plan.sample_size_per_arm == int(proportion_sample_size(0.05, 0.055, alpha=0.025)[()])
    assert plan.sample_size == 3 * plan.sample_size_per_arm


def test_unequal_weights_size_the_control_arm_for_the_smaller_treatment() -> None:
    d = read_design(
        design(
            variants=[{"key": "a", "weight": 3}, {"key": "b", "weight": 1}],
            minimum_detectable_effect=0.1,
            baseline=0.05,
        )
    )
    per_arm = int(proportion_sample_size(0.05, 0.055, ratio=1 / 3)[()])
    assert plan_for(d).sample_size_per_arm == per_arm
    assert plan_for(d).sample_size == -(-per_arm * 4 // 3)


def test_a_mean_metric_is_sized_from_its_standard_deviation() -> None:
    d = read_design(
        design(
            primary_metric="revenue_per_contact",
            minimum_detectable_effect=0.05,
            baseline=20.0,
            baseline_sd=40.0,
        )
    )
    assert plan_for(d).sample_size_per_arm == int(mean_sample_size(40.0, 1.0)[()])


def test_a_multivariate_design_expands_to_every_combination_of_levels() -> None:
    d = read_design(
        design(
            variants=[],
            factors=[
                {"key": "subject", "levels": ["plain", "question"]},
                {"key": "cta", "levels": ["buy", "learn", "try"]},
            ],
        )
    )
    assert [v.key for v in d.variants] == [
        "subject=plain.cta=buy",
        "subject=plain.cta=learn",
        "subject=plain.cta=try",
        "subject=question.cta=buy",
        "subject=question.cta=learn",
        "subject=question.cta=try",
    ]
    assert d.levels_of("subject=question.cta=try") == {"subject": "question", "cta": "try"}
    assert plan_for(d).comparisons == 1 + 2  # main effects: levels against each baseline
