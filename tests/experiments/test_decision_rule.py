"""The decision rule on sufficient statistics alone: each outcome, and the words it uses."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from clarion.experiments.analysis import analyse, looks_from
from clarion.experiments.decisions import decide
from clarion.experiments.design import plan_for, read_design
from clarion.experiments.outcomes import ExposureDay, VariantOutcome

from experiment_world import design

AT = datetime(2027, 3, 1, 12, tzinfo=UTC)


def clicks(**arms: tuple[int, int]) -> list[VariantOutcome]:
    return [VariantOutcome(v, n, float(k), float(k)) for v, (n, k) in arms.items()]


def read(data: dict, outcomes: dict[str, list[VariantOutcome]], days=()):
    d = read_design(data)
    return analyse(d, plan_for(d), outcomes, list(days), AT)


def test_a_winner_is_explained_in_one_sentence_the_report_can_quote() -> None:
    found = read(design(), {"click_rate": clicks(a=(10_000, 1000), b=(10_000, 1180))})
    decision = decide(found)
    assert decision.outcome == "winner" and decision.winner == "b"
    pattern = (
        r"^B beats A on click rate by \+1\.8 pp \(95% CI \+\d\.\d to \+\d\.\d\), "
        r"chance to beat >99\.9%\.$"
    )
    assert re.match(pattern, decision.explanation), decision.explanation


def test_when_every_challenger_loses_the_control_wins() -> None:
    found = read(
        design(variants=[{"key": "a"}, {"key": "b"}, {"key": "c"}]),
        {"click_rate": clicks(a=(10_000, 1300), b=(10_000, 1000), c=(10_000, 1010))},
    )
    decision = decide(found)
    assert (decision.outcome, decision.winner) == ("winner", "a")
    assert decision.explanation.startswith("A (the control) beats every challenger")


def test_a_lower_is_better_metric_wins_by_going_down() -> None:
    found = read(
        design(primary_metric="unsubscribe_rate"),
        {"unsubscribe_rate": clicks(a=(10_000, 300), b=(10_000, 150))},
    )
    (b,) = found.primary
    assert b.estimate < 0 and b.improves and b.chance_to_beat > 0.99
    assert decide(found).winner == "b"


def test_a_small_difference_is_inconclusive_and_says_how_far_along_it_is() -> None:
    data = design(minimum_detectable_effect=0.1, baseline=0.1)
    found = read(
        data,
        {"click_rate": clicks(a=(2000, 200), b=(2000, 215))},
        [ExposureDay(AT.date(), 4000)],
    )
    decision = decide(found)
    assert decision.outcome == "inconclusive"
    assert "4,000 of 29,502 planned contacts exposed" in decision.explanation


def test_a_b_n_comparisons_are_corrected_for_multiplicity() -> None:
    arms = clicks(a=(5000, 500), b=(5000, 560), c=(5000, 500), d=(5000, 500))
    holm = read(design(variants=[{"key": k} for k in "abcd"]), {"click_rate": arms})
    two = read(design(), {"click_rate": arms[:2]})
    (b_alone,) = two.primary
    b_among = holm.primary[0]
    assert b_among.p_value is not None and b_alone.p_value is not None
    assert b_among.p_value == pytest.approx(min(1.0, 3 * b_alone.p_value))
    assert b_among.ci_upper - b_among.ci_lower > b_alone.ci_upper - b_alone.ci_lower


def test_benjamini_hochberg_finds_more_among_several_good_arms_than_holm() -> None:
    arms = clicks(a=(10_000, 1000), b=(10_000, 1150), c=(10_000, 1150), d=(10_000, 1000))
    four = [{"key": k} for k in "abcd"]
    holm = read(design(variants=four), {"click_rate": arms})
    bh = read(design(variants=four, correction="benjamini_hochberg"), {"click_rate": arms})
    assert [c.improves for c in holm.primary] == [False, False, False]
    assert [c.improves for c in bh.primary] == [True, True, False]


def test_the_looks_are_the_days_with_new_exposures_up_to_the_horizon() -> None:
    days = [ExposureDay(AT.date(), n) for n in (100, 0, 300, 700, 50)]
    assert looks_from(days, 1000) == [0.1, 0.4, 1.0]


def test_without_exposures_nothing_is_analysable_and_nothing_is_decided() -> None:
    found = read(design(), {"click_rate": []})
    (b,) = found.primary
    assert b.error == "insufficient_data" and not b.significant
    decision = decide(found)
    assert decision.outcome == "inconclusive"
    assert decision.details == (
        "B vs A on click rate: not analysable yet (too few exposed contacts).",
    )
