"""The rule tree's written form: YAML and JSON in, the same readable JSON out."""

from __future__ import annotations

import json
from datetime import date

import pytest

from clarion.audiences.segments import (
    load_json,
    load_yaml,
    parse_rule,
    parse_segment,
    rule_to_data,
    segment_to_data,
)
from clarion.audiences.segments.rules import AllOf, DidButNotRule, DidRule, FieldRule, NotRule
from clarion.core.errors import InvalidInput

YAML = """
key: pricing-not-converted
name: Visited pricing, did not convert
rule:
  all:
    - {field: country, op: in, value: [FR, ES]}
    - any:
        - did: page_view
          where: {url: {op: contains, value: /pricing}}
          at_least: 2
          within_days: 14
        - {field: lead_score, op: ">=", value: 50}
    - not: {did: conversion, within_days: 30}
    - {did: page_view, but_not: conversion, within_days: 7}
    - {engagement: dormant}
    - {consent: "marketing:email"}
    - {segment: high-value}
    - {field: created_at, op: between, value: [2027-01-01, {days_ago: 7}]}
    - {did: form_submit, where: {channel: [web, email], properties.plan: pro}}
"""


def test_a_segment_reads_from_yaml_and_writes_back_the_same_form() -> None:
    segment = parse_segment(load_yaml(YAML))

    rule = segment.rule
    assert isinstance(rule, AllOf)
    assert isinstance(rule.all[2], NotRule)
    assert isinstance(rule.all[3], DidButNotRule)
    pricing = rule.all[1].any[0]  # type: ignore[union-attr]
    assert isinstance(pricing, DidRule) and pricing.where["url"].value == "/pricing"
    between = rule.all[7]
    assert isinstance(between, FieldRule) and between.value[0] == date(2027, 1, 1)
    shorthand = rule.all[8]
    assert isinstance(shorthand, DidRule)
    assert shorthand.where["channel"].op == "in" and shorthand.where["properties.plan"].op == "="

    data = segment_to_data(segment)
    assert data["rule"]["all"][2] == {"not": {"did": "conversion", "within_days": 30}}
    assert data["rule"]["all"][7]["value"] == ["2027-01-01", {"days_ago": 7}]
    assert parse_segment(json.loads(json.dumps(data))) == parse_segment(data)


def test_json_and_yaml_give_the_same_rule() -> None:
    data = rule_to_data(parse_segment(load_yaml(YAML)).rule)

    assert parse_rule(load_json(json.dumps(data))) == parse_rule(load_yaml(json.dumps(data)))


@pytest.mark.parametrize(
    ("written", "meant"), [("≥", ">="), ("==", "="), ("≠", "!="), ("is set", "is_set")]
)
def test_operators_have_readable_aliases(written: str, meant: str) -> None:
    rule = parse_rule({"field": "lead_score", "op": written, "value": 1})

    assert isinstance(rule, FieldRule) and rule.op == meant


def _deep_json(depth: int) -> str:
    return '{"not": ' * depth + '{"consent": "a:b"}' + "}" * depth


def _deep_yaml(depth: int) -> str:
    # Flow style: ten thousand levels of block indentation would exceed the size limit first.
    return "{not: " * depth + "{consent: 'a:b'}" + "}" * depth


@pytest.mark.parametrize("loader", ["json", "yaml"])
def test_text_nested_ten_thousand_deep_is_refused_with_a_path(loader: str) -> None:
    text = _deep_json(10_000) if loader == "json" else _deep_yaml(10_000)

    with pytest.raises(InvalidInput) as caught:
        (load_json if loader == "json" else load_yaml)(text, root="rule")

    (problem,) = caught.value.problems
    assert problem.path.startswith("rule.not.not.not")
    assert "nested too deeply" in problem.problem


def test_text_nested_a_little_too_deep_is_refused_by_the_parser() -> None:
    data = load_json(_deep_json(100))  # Python's parser copes; parse_rule refuses

    with pytest.raises(InvalidInput) as caught:
        parse_rule(data)

    assert caught.value.problems[0].path.startswith("rule.not.not")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("all: [", "malformed YAML"),
        ("a: &x 1\nb: *x\n", "aliases"),
        ("x" * 300_000, "larger than"),
    ],
)
def test_bad_yaml_is_refused(text: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_yaml(text)

    assert words in caught.value.problems[0].problem


def test_bad_json_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_json('{"all": [}')

    assert "malformed JSON" in caught.value.problems[0].problem
