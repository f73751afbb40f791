"""Bad rules are refused with the path of the offending node and a reason."""

from __future__ import annotations

from typing import Any

import pytest

from clarion.audiences.segments import (
    MAX_DEPTH,
    MAX_NODES,
    SegmentContext,
    parse_rule,
    rule_problems,
    validate_rule,
)
from clarion.core.errors import InvalidInput

CONTEXT = SegmentContext(attribute_types={"age": "number", "plan": "string", "renewal": "date"})


def _problems(rule: Any, context: SegmentContext = CONTEXT) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        validate_rule(rule, context)
    return [(p.path, p.problem) for p in caught.value.problems]


def _nested(depth: int, key: str = "not") -> dict[str, Any]:
    rule: dict[str, Any] = {"field": "country", "op": "is_set"}
    for _ in range(depth - 1):
        rule = {key: rule} if key == "not" else {key: [rule]}
    return rule


BAD: list[tuple[str, Any, str, str]] = [
    # (case, rule, path, words in the problem)
    (
        "unknown field",
        {"field": "shoe_size", "op": "=", "value": 42},
        "rule.field",
        "unknown field",
    ),
    (
        "undeclared attribute",
        {"field": "attributes.shoe", "op": "is_set"},
        "rule.field",
        "not declared",
    ),
    (
        "unknown operator, deep",
        {
            "all": [
                {"consent": "a:b"},
                {"consent": "a:b"},
                {"any": [{"field": "country", "op": "like", "value": "F"}]},
            ]
        },
        "rule.all[2].any[0].op",
        "unknown operator 'like'",
    ),
    (
        "contains on a number",
        {"field": "attributes.age", "op": "contains", "value": "x"},
        "rule.op",
        "contains does not apply to number field attributes.age",
    ),
    (
        "string for a number",
        {"field": "lead_score", "op": ">=", "value": "50"},
        "rule.value",
        "expected a number",
    ),
    (
        "number for a string",
        {"field": "country", "op": "=", "value": 33},
        "rule.value",
        "expected a string",
    ),
    (
        "not a date",
        {"field": "created_at", "op": "<", "value": "soon"},
        "rule.value",
        "expected a date",
    ),
    (
        "= on a date",
        {"field": "created_at", "op": "=", "value": "2027-01-01"},
        "rule.op",
        "does not apply",
    ),
    (
        "is_set with a value",
        {"field": "city", "op": "is_set", "value": "x"},
        "rule.value",
        "no value",
    ),
    ("in without a list", {"field": "city", "op": "in", "value": "Paris"}, "rule.value", "list"),
    (
        "in, one wrong item",
        {"field": "city", "op": "in", "value": ["Paris", 3]},
        "rule.value[1]",
        "expected a string",
    ),
    (
        "between backwards",
        {"field": "lead_score", "op": "between", "value": [9, 1]},
        "rule.value",
        "low end",
    ),
    (
        "between one value",
        {"field": "lead_score", "op": "between", "value": [9]},
        "rule.value",
        "two values",
    ),
    ("list for =", {"field": "city", "op": "=", "value": ["a"]}, "rule.value", "one value"),
    (
        "unknown key",
        {"field": "city", "op": "is_set", "colour": "red"},
        "rule.colour",
        "unknown field",
    ),
    ("not a rule", {"all": [{"colour": "red"}]}, "rule.all[0]", "expected a rule"),
    ("empty all", {"all": []}, "rule.all", "at least 1"),
    (
        "at_least above at_most",
        {"did": "click", "at_least": 3, "at_most": 1},
        "rule.at_most",
        "below at_least",
    ),
    ("negative count", {"did": "click", "at_least": -1}, "rule.at_least", "greater than or equal"),
    (
        "two windows",
        {"did": "click", "within_days": 3, "between": ["2027-01-01", "2027-02-01"]},
        "rule.between",
        "within_days or between",
    ),
    (
        "bad window",
        {"did": "click", "between": ["2027-02-01", "2027-01-01"]},
        "rule.between",
        "low end",
    ),
    (
        "unknown event field",
        {"did": "click", "where": {"colour": "red"}},
        "rule.where.colour",
        "unknown event field",
    ),
    (
        "bad property name",
        {"did": "click", "where": {"properties.a.b": 1}},
        "rule.where.properties.a.b",
        "unknown event field",
    ),
    (
        "mixed list",
        {"did": "click", "where": {"properties.n": [1, "1"]}},
        "rule.where.properties.n.value",
        "one type",
    ),
    (
        "contains on revenue",
        {"did": "click", "where": {"revenue": {"op": "contains", "value": "9"}}},
        "rule.where.revenue.op",
        "does not apply",
    ),
    (
        "but_not filters",
        {"did": "a", "but_not": {"did": "b", "where": {"url": {"op": "<", "value": 3}}}},
        "rule.but_not.where.url.op",
        "does not apply",
    ),
    ("event type", {"did": "no'quotes"}, "rule.did", "should match pattern"),
    ("level", {"engagement": "sleepy"}, "rule.engagement", "expected one of new"),
    ("consent", {"consent": "email"}, "rule.consent", "should match pattern"),
    ("days", {"did": "click", "within_days": 0}, "rule.within_days", "greater than or equal to 1"),
    ("infinite", {"field": "lead_score", "op": ">", "value": float("inf")}, "rule.value", "finite"),
]


@pytest.mark.parametrize(("rule", "path", "words"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_a_bad_rule_is_refused_with_its_path(rule: Any, path: str, words: str) -> None:
    problems = _problems(rule)

    assert any(p == path and words in problem for p, problem in problems), problems


def test_every_problem_is_listed_at_once() -> None:
    rule = {
        "all": [
            {"field": "shoe", "op": "=", "value": 1},
            {"field": "attributes.age", "op": "contains", "value": "x"},
            {"did": "click", "at_least": 5, "at_most": 2},
        ]
    }

    paths = [path for path, _ in _problems(rule)]

    assert paths == ["rule.all[0].field", "rule.all[1].op", "rule.all[2].at_most"]


def test_sql_and_html_are_just_values() -> None:
    for value in ["'; DROP TABLE contacts; --", "<script>alert(1)</script>", "%_\\"]:
        rule = {"field": "city", "op": "=", "value": value}
        assert validate_rule(rule, CONTEXT) == parse_rule(rule)


def test_depth_is_limited() -> None:
    validate_rule(_nested(MAX_DEPTH), CONTEXT)
    validate_rule(_nested(MAX_DEPTH, "all"), CONTEXT)

    ((path, problem),) = _problems(_nested(MAX_DEPTH + 1))

    assert path == "rule" + ".not" * MAX_DEPTH
    assert f"more than {MAX_DEPTH}" in problem


@pytest.mark.parametrize("key", ["not", "all", "any"])
def test_a_ten_thousand_deep_tree_is_refused_with_a_path(key: str) -> None:
    ((path, problem),) = _problems(_nested(10_000, key))

    assert path.startswith("rule.not.not" if key == "not" else f"rule.{key}[0].{key}[0]")
    assert len(path) < 1000
    assert "nested too deeply" in problem


def test_the_number_of_rules_is_limited() -> None:
    rule = {"any": [{"field": "country", "op": "=", "value": "FR"}] * MAX_NODES}

    ((path, problem),) = _problems(rule)

    assert path == "rule"
    assert f"at most {MAX_NODES}" in problem


# -- references to other segments ----------------------------------------------------------


def _context(stored: dict[str, Any], key: str | None = None) -> SegmentContext:
    def resolve(name: str) -> Any:
        return parse_rule(stored[name]) if name in stored else None

    return SegmentContext(resolve_segment=resolve, segment_key=key)


def test_a_segment_may_use_segments() -> None:
    stored = {"fr": {"field": "country", "op": "=", "value": "FR"}, "fr2": {"segment": "fr"}}

    assert rule_problems(parse_rule({"segment": "fr2"}), _context(stored)) == []


@pytest.mark.parametrize(
    ("stored", "key", "rule", "path", "words"),
    [
        ({}, None, {"segment": "ghost"}, "rule.segment", "unknown segment 'ghost'"),
        ({}, "me", {"not": {"segment": "me"}}, "rule.not.segment", "cycle: me → me"),
        (
            {"a": {"segment": "b"}, "b": {"any": [{"segment": "a"}]}},
            None,
            {"all": [{"consent": "a:b"}, {"segment": "a"}]},
            "rule.all[1].segment",
            "cycle: a → b → a",
        ),
        (
            {"b": {"segment": "me"}},
            "me",
            {"segment": "b"},
            "rule.segment",
            "cycle: me → b → me",
        ),
        (
            {"bad": {"field": "shoe", "op": "is_set"}},
            None,
            {"segment": "bad"},
            "rule.segment",
            "segment 'bad' is invalid: rule.field: unknown field",
        ),
        (
            {f"s{i}": {"segment": f"s{i + 1}"} for i in range(20)} | {"s20": {"consent": "a:b"}},
            None,
            {"segment": "s0"},
            "rule.segment",
            "more than 8 deep",
        ),
    ],
    ids=["unknown", "itself", "two", "back to the one being defined", "invalid", "chain"],
)
def test_bad_references_are_refused(
    stored: dict[str, Any], key: str | None, rule: Any, path: str, words: str
) -> None:
    problems = _problems(rule, _context(stored, key))

    assert any(p == path and words in problem for p, problem in problems), problems


def test_references_that_multiply_are_limited() -> None:
    # Each level uses the one below four times: 4^6 leaves once inlined.
    stored: dict[str, Any] = {"s0": {"consent": "a:b"}}
    for level in range(1, 7):
        stored[f"s{level}"] = {"any": [{"segment": f"s{level - 1}"}] * 4}

    ((path, problem),) = _problems({"segment": "s6"}, _context(stored))

    assert path == "rule"
    assert "with the segments it uses" in problem
