"""Campaign files: a sound plan is read; every kind of bad file is refused with its field path."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from clarion.campaigns.files import load_plan_file, load_plan_text
from clarion.campaigns.plan import KpiTarget, parse_plan
from clarion.core.errors import InvalidInput

from shared_paths import EXAMPLES

SAMPLE = EXAMPLES / "spring-launch.yaml"


def sample_data() -> dict:
    return yaml.safe_load(SAMPLE.read_text())


def problems_of(data: object) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        parse_plan(data, "plan.yaml")
    return [(p.path, p.problem) for p in caught.value.problems]


def test_the_sample_campaign_file_is_a_sound_plan() -> None:
    plan = load_plan_file(SAMPLE)
    assert plan.key == "spring-launch-2027"
    assert plan.budget.total == Decimal(24000)
    assert sum(plan.budget.split.values()) == plan.budget.total
    assert [str(k) for k in plan.kpis][:2] == ["cpa <= 40 EUR", "mqls >= 600"]
    assert plan.kpis[2].value == Decimal("0.25")  # open_rate >= 25%
    assert [h.key for h in plan.hypotheses] == ["ops-social-beats-display", "short-subject-opens"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cpa <= 40 EUR", ("cpa", "<=", Decimal(40), "EUR")),
        ("cpa ≤ 40 €", ("cpa", "<=", Decimal(40), "EUR")),
        ("mqls >= 600", ("mqls", ">=", Decimal(600), None)),
        ("open_rate>=25%", ("open_rate", ">=", Decimal(25), "%")),
        ("roas > 2.5", ("roas", ">", Decimal("2.5"), None)),
    ],
)
def test_kpi_targets_are_written_as_text(text: str, expected: tuple) -> None:
    kpi = KpiTarget.model_validate(text)
    assert (kpi.metric, kpi.comparator, kpi.target, kpi.unit) == expected


def _with(change: dict, remove: tuple[str, ...] = ()) -> dict:
    data = sample_data()
    for key in remove:
        data.pop(key)
    for path, value in change.items():
        target = data
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value
    return data


@pytest.mark.parametrize(
    ("change", "path", "problem"),
    [
        ({"budgett": 5}, "budgett", "unknown field"),
        ({"brief.tone": "loud"}, "brief.tone", "unknown field"),
        ({"budget.total": -100}, "budget.total", "must not be negative"),
        ({"budget.split.search": -1}, "budget.split.search", "must not be negative"),
        (
            {"budget.split.search": 10000},
            "budget.split",
            "sum to 23500, not the budget total 24000",
        ),
        ({"end_date": "2027-02-01"}, "end_date", "before its start 2027-03-01"),
        ({"kpis.0": "cac <= 40 EUR"}, "kpis[0].metric", "unknown KPI metric 'cac'"),
        ({"kpis.0": "cpa <= 40 USD"}, "kpis[0].unit", "currency EUR, not USD"),
        ({"kpis.2": "open_rate >= 140%"}, "kpis[2].target", "between 0% and 100%"),
        ({"kpis.1": "mqls >= 600.5"}, "kpis[1].target", "a whole number"),
        ({"kpis.0": "cpa is low"}, "kpis[0]", "cannot read KPI target"),
        ({"currency": "XXX"}, "currency", "unknown currency 'XXX'"),
        ({"key": "Spring Launch!"}, "key", "should match pattern"),
        ({"start_date": "not a date"}, "start_date", "valid date"),
        ({"hypotheses.0.metric": "vibes"}, "hypotheses[0].metric", "unknown KPI metric"),
        ({"hypotheses.1.key": "ops-social-beats-display"}, "hypotheses[1].key", "duplicate key"),
        ({"brief.channels": ["email", "tv"]}, "brief.channels[1]", "no line in budget.split"),
        ({"name": "Launch\x00"}, "name", "control characters"),
    ],
)
def test_a_bad_plan_names_the_field_and_the_problem(change: dict, path: str, problem: str) -> None:
    found = problems_of(_with(change))
    assert any(p == path and problem in text for p, text in found), found


def test_a_missing_field_is_named() -> None:
    assert ("budget", "required field is missing") in problems_of(_with({}, remove=("budget",)))


def test_every_problem_is_reported_at_once() -> None:
    found = problems_of(_with({"budget.total": -5, "end_date": "2027-01-01", "kpis.0": "x <= 1"}))
    assert {p for p, _ in found} >= {"budget.total", "end_date", "kpis[0].metric"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("key: [unclosed", "malformed YAML at line 1"),
        ("key: a\n  bad: indent: here", "malformed YAML at line 2"),
        ("- just\n- a list", "expected a mapping"),
        ("", "expected one campaign document, found 0"),
        ("key: a\n---\nkey: b\n", "found 2"),
        ("a: &x [1]\nb: *x\n", "aliases (*name) are not allowed"),
        ("key: !!python/object/apply:os.system ['true']", "malformed YAML"),
    ],
)
def test_malformed_files_are_refused_with_their_position(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_plan_text(text, "bad.yaml")
    assert caught.value.source == "bad.yaml"
    assert problem in caught.value.problems[0].problem
    assert caught.value.message.startswith("bad.yaml: ")


def test_files_that_are_missing_huge_or_not_text_are_refused(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_text("name: " + "x" * 2_000_000)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    for path, problem in [
        (tmp_path / "nope.yaml", "no such file"),
        (huge, "larger than"),
        (binary, "not UTF-8"),
        (tmp_path, "is a directory"),
    ]:
        with pytest.raises(InvalidInput, match=problem):
            load_plan_file(path)


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + SAMPLE.read_bytes())
    assert load_plan_file(path).key == "spring-launch-2027"


def test_the_hash_ignores_key_order_but_not_content() -> None:
    data = sample_data()
    reordered = dict(reversed(list(data.items())))
    assert parse_plan(data).canonical_hash() == parse_plan(reordered).canonical_hash()
    changed = _with({"objective": "Something else"})
    assert parse_plan(changed).canonical_hash() != parse_plan(data).canonical_hash()


@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes_the_reader(text: str) -> None:
    try:
        load_plan_text(text, "fuzz.yaml")
    except InvalidInput as exc:
        assert exc.problems
