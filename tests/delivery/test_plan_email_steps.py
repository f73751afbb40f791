"""Email steps in the campaign plan: checked by the plan's one rule function, with paths."""

from __future__ import annotations

from typing import Any

import pytest

from clarion.campaigns.files import load_plan_text
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


def _problems(steps: list[dict[str, Any]]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_plan({**BASE, "email": steps})
    return {p.path: p.problem for p in caught.value.problems}


def test_a_campaign_file_declares_email_steps() -> None:
    plan = load_plan_text(
        """
key: spring
name: Spring
objective: Launch
start_date: 2027-03-01
end_date: 2027-03-31
budget: {total: 0}
email:
  - key: launch
    template: spring-hello
    template_version: 2
    audience: all
    from_address: Spring Team <news@mail.example.com>
    reply_to: help@example.com
    utm: {source: newsletter, medium: email, campaign: spring}
    scheduled_at: 2027-03-02T09:00:00Z
  - key: reminder
    template: spring-reminder
    audience: {field: country, op: "=", value: DE}
""",
        "spring.yaml",
    )
    assert [s.key for s in plan.email] == ["launch", "reminder"]
    assert plan.email[0].template_version == 2
    assert plan.email[1].audience == {"field": "country", "op": "=", "value": "DE"}


@pytest.mark.parametrize(
    ("steps", "path", "words"),
    [
        (
            [{"key": "a", "template": "t"}, {"key": "a", "template": "t"}],
            "email[1].key",
            "duplicate",
        ),
        ([{"key": "a", "template": "t", "from_address": "nobody"}], "email[0].from_address", "not"),
        ([{"key": "a", "template": "t", "utm": {"camp": "x"}}], "email[0].utm.camp", "UTM"),
        ([{"key": "a", "template": "t", "audience": "friends"}], "email[0].audience", "expected"),
        (
            [{"key": "a", "template": "t", "scheduled_at": "2027-03-02T09:00:00"}],
            "email[0].scheduled_at",
            "time zone",
        ),
        (
            [{"key": "a", "template": "t", "from_address": "x@y.org\r\nBcc: all@y.org"}],
            "email[0].from_address",
            "line breaks",
        ),
        ([{"key": "a", "template": "t", "template_version": 0}], "email[0].template_version", ""),
    ],
)
def test_bad_steps_are_named_by_path(steps: list[dict[str, Any]], path: str, words: str) -> None:
    problems = _problems(steps)
    assert path in problems, problems
    assert words in problems[path]


def test_an_inline_rule_is_checked_where_it_stands() -> None:
    problems = _problems([{"key": "a", "template": "t", "audience": {"all": [{"bogus": 1}]}}])
    assert any(p.startswith("email[0].audience") for p in problems), problems


def test_stored_segments_are_accepted_in_the_plan() -> None:
    plan = parse_plan({**BASE, "email": [{"key": "a", "template": "t", "audience": "segment:eu"}]})
    assert plan.email[0].audience == "segment:eu"
