"""What a rule means: known fields and operators, matching types, limits, sound references."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import BaseModel

from clarion.audiences.segments.context import SegmentContext
from clarion.audiences.segments.fields import (
    ATTRIBUTE_PREFIX,
    OPERATORS_BY_TYPE,
    FieldType,
    contact_field,
    event_field,
    known_contact_fields,
)
from clarion.audiences.segments.persona_rules import at_reference, inline_personas_at
from clarion.audiences.segments.references import reference_problems
from clarion.audiences.segments.rules import (
    MAX_DEPTH,
    MAX_NODES,
    RULE_TYPES,
    DaysAgo,
    DidButNotRule,
    DidRule,
    EventMatch,
    FieldRule,
    Filter,
    PersonaRule,
    RuleNode,
    children,
    parse_rule,
    rule_rejected,
)
from clarion.audiences.segments.windows import as_date_value, date_bounds
from clarion.core.errors import FieldProblem

_ARTICLE = {
    "string": "a string",
    "number": "a number",
    "boolean": "true or false",
    "date": "a date (2027-01-31, an ISO instant or {days_ago: n})",
    "set": "a string",
}
# Any fixed instant serves to order two relative (or two absolute) dates.
_SOME_NOW = datetime(2000, 1, 1, tzinfo=UTC)


def validate_rule(rule: RuleNode | Any, context: SegmentContext, *, root: str = "rule") -> RuleNode:
    """The rule, parsed if it is still data, once it is sound; InvalidInput lists every problem
    with its path (``rule.all[2].any[0].op``). Persona references come back rewritten."""
    parsed = cast(RuleNode, rule) if isinstance(rule, RULE_TYPES) else parse_rule(rule, root=root)
    parsed, rewritten = inline_personas_at(parsed, context, root)
    problems = rule_problems(parsed, context, root=root)
    if problems:
        raise rule_rejected(
            [FieldProblem(at_reference(p.path, rewritten), p.problem) for p in problems]
        )
    return parsed


def rule_problems(
    rule: RuleNode, context: SegmentContext, *, root: str = "rule"
) -> list[FieldProblem]:
    """Every problem of a parsed rule, references to other segments included."""
    problems = _own_problems(rule, context, root)
    if problems:
        return problems

    def check(other: RuleNode, other_root: str) -> list[FieldProblem]:
        return _own_problems(other, context, other_root)

    return reference_problems(rule, context, check, root)


def _own_problems(rule: RuleNode, context: SegmentContext, root: str) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    nodes = 0
    stack = [(rule, root, 1)]
    while stack:
        node, path, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            problems.append(FieldProblem(path, f"more than {MAX_DEPTH} rules deep"))
            continue
        problems.extend(_node_problems(node, path, context))
        for suffix, child in reversed(children(node)):
            stack.append((child, path + suffix, depth + 1))
    if nodes > MAX_NODES:
        problems.insert(0, FieldProblem(root, f"{nodes} rules; at most {MAX_NODES}"))
    return problems


def _node_problems(node: RuleNode, path: str, context: SegmentContext) -> list[FieldProblem]:
    if isinstance(node, FieldRule):
        return _field_problems(node, path, context)
    if isinstance(node, DidRule | DidButNotRule):
        return _behaviour_problems(node, path)
    if isinstance(node, PersonaRule):  # known personas were rewritten before validation
        return [FieldProblem(f"{path}.persona", f"unknown persona {node.persona!r}")]
    return []  # all/any/not, engagement, consent: their shape is all there is to check


def _field_problems(node: FieldRule, path: str, context: SegmentContext) -> list[FieldProblem]:
    spec = contact_field(node.field, context.attribute_types)
    if spec is None:
        if node.field.startswith(ATTRIBUTE_PREFIX):
            declared = ", ".join(sorted(context.attribute_types)) or "none"
            problem = f"attribute {node.field!r} is not declared (declared: {declared})"
        else:
            known = ", ".join(known_contact_fields(context.attribute_types))
            problem = f"unknown field {node.field!r}; known: {known}"
        return [FieldProblem(f"{path}.field", problem)]
    return _comparison_problems(spec.type, spec.name, node.op, node.value, path)


def _comparison_problems(  # noqa: PLR0911  (one early return per kind of mistake)
    kind: FieldType, name: str, op: str, value: Any, path: str
) -> list[FieldProblem]:
    allowed = OPERATORS_BY_TYPE[kind]
    if op not in allowed:
        problem = f"{op} does not apply to {kind} field {name}; use one of: {', '.join(allowed)}"
        return [FieldProblem(f"{path}.op", problem)]
    where = f"{path}.value"
    if op == "is_set":
        return [] if value is None else [FieldProblem(where, "is_set takes no value")]
    if op in ("in", "between"):
        if not isinstance(value, list) or not value:
            return [FieldProblem(where, f"{op} takes a list of values")]
        if op == "between" and len(value) != 2:
            return [FieldProblem(where, "between takes two values: [low, high]")]
        problems = [
            FieldProblem(f"{where}[{i}]", _expected(kind, item))
            for i, item in enumerate(value)
            if not _is(kind, item)
        ]
        if not problems and op == "between" and not _ordered(kind, value[0], value[1]):
            problems.append(FieldProblem(where, "the low end must not be above the high end"))
        return problems
    if isinstance(value, list) or value is None:
        return [FieldProblem(where, f"{op} takes one value")]
    return [] if _is(kind, value) else [FieldProblem(where, _expected(kind, value))]


def _is(kind: FieldType, value: Any) -> bool:
    if kind in ("string", "set"):
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return not isinstance(value, bool | int | float) and as_date_value(value) is not None


def _expected(kind: FieldType, value: Any) -> str:
    shown = value.model_dump() if isinstance(value, BaseModel) else value
    return f"expected {_ARTICLE[kind]}, got {shown!r:.60}"


def _ordered(kind: FieldType, low: Any, high: Any) -> bool:
    if kind == "number":
        return bool(low <= high)
    # A relative and an absolute date compare differently as time passes: not checked.
    if isinstance(low, DaysAgo) != isinstance(high, DaysAgo):
        return True
    return date_bounds(">=", low, _SOME_NOW)[0].at <= date_bounds(">=", high, _SOME_NOW)[0].at


def _behaviour_problems(node: DidRule | DidButNotRule, path: str) -> list[FieldProblem]:
    problems = _where_problems(node.where, f"{path}.where")
    if isinstance(node, DidButNotRule) and isinstance(node.but_not, EventMatch):
        problems += _where_problems(node.but_not.where, f"{path}.but_not.where")
    if (
        isinstance(node, DidRule)
        and node.at_most is not None
        and (node.at_least or 0) > node.at_most
    ):
        problems.append(FieldProblem(f"{path}.at_most", "must not be below at_least"))
    if node.between is not None:
        if node.within_days is not None:
            problems.append(FieldProblem(f"{path}.between", "give within_days or between"))
        window = _comparison_problems("date", "between", "between", [*node.between], path)
        problems += [
            FieldProblem(f"{path}.between" + p.path.removeprefix(f"{path}.value"), p.problem)
            for p in window
        ]
    return problems


def _where_problems(where: Mapping[str, Filter], path: str) -> list[FieldProblem]:
    problems = []
    for name, condition in where.items():
        here = f"{path}.{name}"
        kind, mixed = value_type(condition.value)
        if kind is None:
            problems.append(FieldProblem(f"{here}.value", "expected strings, numbers or booleans"))
            continue
        spec = event_field(name, kind)
        if spec is None:
            problem = (
                f"unknown event field {name!r}; use a column (url, channel, utm_source, "
                "revenue...) or properties.<name>"
            )
            problems.append(FieldProblem(here, problem))
            continue
        if mixed:
            problems.append(FieldProblem(f"{here}.value", "values must all be of one type"))
            continue
        problems += _comparison_problems(spec.type, name, condition.op, condition.value, here)
    return problems


def value_type(value: Any) -> tuple[FieldType | None, bool]:
    """The type a filter value reads a property as (string, number or boolean; string when
    there is no value), and whether a list mixes types; None for any other value (a date)."""
    items = value if isinstance(value, list) else [] if value is None else [value]
    kinds: list[FieldType] = []
    for item in items:
        if isinstance(item, bool):
            kinds.append("boolean")
        elif isinstance(item, int | float) and math.isfinite(item):
            kinds.append("number")
        elif isinstance(item, str):
            kinds.append("string")
        else:
            return None, False
    return (kinds[0] if kinds else "string"), len(set(kinds)) > 1
