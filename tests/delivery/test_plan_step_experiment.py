"""An email step may name one experiment; the plan refuses a malformed key or a shared one."""

from __future__ import annotations

from typing import Any

import pytest

from clarion.campaigns.plan import parse_plan
from clarion.core.errors import InvalidInput

BASE: dict[str, Any] = {
    "key": "spring",
    "name": "Spring",
    "objective": "Launch",
    "start_date": "2027-03-01",
    "end_date": "2027-03-31",
    "budget": {"total": 0},
}


def test_a_step_names_its_experiment() -> None:
    plan = parse_plan({**BASE, "email": [{"key": "launch", "template": "t", "experiment": "subj"}]})
    assert plan.email[0].experiment == "subj"


@pytest.mark.parametrize(
    ("steps", "path", "words"),
    [
        (
            [
                {"key": "launch", "template": "t", "experiment": "subj"},
                {"key": "reminder", "template": "t", "experiment": "subj"},
            ],
            "email[1].experiment",
            "already tested by step 'launch'",
        ),
        (
            [{"key": "launch", "template": "t", "experiment": "Subj; DROP TABLE sends"}],
            "email[0].experiment",
            "should match pattern",
        ),
        (
            [{"key": "launch", "template": "t", "experiment": "{{ 7 * 7 }}"}],
            "email[0].experiment",
            "should match pattern",
        ),
    ],
)
def test_bad_step_experiments_are_named_by_path(
    steps: list[dict[str, Any]], path: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_plan({**BASE, "email": steps})
    problems = {p.path: p.problem for p in caught.value.problems}
    assert words in problems[path], problems
