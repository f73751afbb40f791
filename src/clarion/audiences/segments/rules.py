"""Segment rules: the rule tree's shape (pydantic) and its readable JSON/YAML form."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal, TypeAlias, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StringConstraints,
    Tag,
    TypeAdapter,
    ValidationError,
    field_serializer,
    model_validator,
)

from clarion.core.errors import FieldProblem, InvalidInput
from clarion.core.validation import field_path, problems_from

MAX_DEPTH: Final = 32  # rule levels (all/any/not nest); deeper trees are mistakes or attacks
MAX_NODES: Final = 500  # rule nodes in one tree
# Containers in the raw data, checked before pydantic (which recurses) sees it: all/any take two
# levels per rule level (a mapping and a list), and a leaf's value or ``where`` a few more.
MAX_RAW_DEPTH: Final = 2 * MAX_DEPTH + 6
MAX_RAW_CONTAINERS: Final = 20 * MAX_NODES
MAX_TEXT: Final = 1000  # characters in one string value
MAX_LIST: Final = 1000  # values in one ``in`` list

OPERATORS: Final = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "contains",
    "starts_with",
    "is_set",
    "between",
)
_ALIASES: Final = {
    "==": "=",
    "≠": "!=",
    "<>": "!=",
    "≤": "<=",
    "≥": ">=",
    "starts with": "starts_with",
    "is set": "is_set",
}
LEVELS: Final = ("new", "active", "returning", "dormant")
Level: TypeAlias = Literal["new", "active", "returning", "dormant"]


def _operator(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # the str type check below reports it
    op = _ALIASES.get(value, value)
    if op not in OPERATORS:
        raise ValueError(f"unknown operator {value[:40]!r}; use one of: {', '.join(OPERATORS)}")
    return op


def _printable(value: str) -> str:
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters")
    return value


Operator = Annotated[str, BeforeValidator(_operator), Field(strict=True)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_printable)]
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
# The names the collector accepts for event types (tracking.intake).
EventType = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.:\- ]{0,63}$")]
SegmentKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
ConsentName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,40}:[a-z0-9_-]{1,40}$")]
Days = Annotated[int, Field(strict=True, ge=1, le=36500)]
Count = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DaysAgo(_Node):
    """``{days_ago: 30}``: the instant 30 days before the evaluation's now."""

    days_ago: Annotated[int, Field(strict=True, ge=0, le=36500)]


def _scalar(value: Any) -> Any:
    # Strings stay strings here: whether one is text or a date depends on the field, which
    # validation knows. A datetime is a date too, so it is tested first.
    if isinstance(value, bool | int | datetime | date | DaysAgo):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("numbers must be finite")
        return value
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValueError(f"strings may have at most {MAX_TEXT} characters")
        return _printable(value)
    if isinstance(value, dict) and set(value) == {"days_ago"}:
        days = value["days_ago"]
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 36500:
            raise ValueError("days_ago takes a whole number of days from 0 to 36500")
        return DaysAgo(days_ago=days)
    raise ValueError(
        f"expected a string, a number, true/false, a date or {{days_ago: n}}, got {value!r:.60}"
    )


def _value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        if len(value) > MAX_LIST:
            raise ValueError(f"lists may have at most {MAX_LIST} values")
        items = []
        for index, item in enumerate(value):
            try:
                items.append(_scalar(item))
            except ValueError as error:
                raise ValueError(f"item {index}: {error}") from None
        return items
    return _scalar(value)


def _window(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError("between takes two dates: [from, to]")
    return tuple(_value(list(value)))


def _levels(value: Any) -> Any:
    expected = f"expected one of {', '.join(LEVELS)}, or a list of them"
    if isinstance(value, str) and value in LEVELS:
        return value
    listed = isinstance(value, list) and 0 < len(value) <= len(LEVELS)
    if listed and all(isinstance(item, str) and item in LEVELS for item in value):
        return value
    raise ValueError(f"{expected}; got {value!r:.60}")


def _event_match(value: Any) -> Any:
    return {"did": value} if isinstance(value, str) else value


# A JSON scalar, a date or {days_ago: n}, or a list of them; checked by hand so that a wrong
# value gets one plain message rather than one per member of a union.
Value: TypeAlias = Annotated[Any, PlainValidator(_value)]


class Filter(_Node):
    """A condition on one event field, ``{op: contains, value: /pricing}``; a bare value is =."""

    op: Operator
    value: Value = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict | Filter):
            return data
        return {"op": "in" if isinstance(data, list) else "=", "value": data}


Where: TypeAlias = Annotated[dict[FieldName, Filter], Field(max_length=20)]


class FieldRule(_Node):
    """``{field: country, op: in, value: [FR, ES]}``: a contact field compared with a value."""

    field: FieldName
    op: Operator
    value: Value = None


# (from, to) or None; typed Any so that serialisation does not second-guess the validator.
Window: TypeAlias = Annotated[Any, PlainValidator(_window)]


class EventMatch(_Node):
    """``{did: conversion, where: {...}}``: the events of one type that pass the filters."""

    did: EventType
    where: Where = {}


class DidRule(_Node):
    """``{did: page_view, where: {...}, at_least: 2, within_days: 14}``: counted behaviour."""

    did: EventType
    where: Where = {}
    at_least: Count | None = None  # 1 when neither bound is given
    at_most: Count | None = None
    within_days: Days | None = None
    between: Window = None


class DidButNotRule(_Node):
    """``{did: page_view, but_not: conversion, within_days: 7}``: X not followed by Y.

    ``but_not`` is an event type or ``{did, where}``; it is written back in the short form
    when it has no filters.
    """

    did: EventType
    where: Where = {}
    but_not: Annotated[EventMatch, BeforeValidator(_event_match)]
    within_days: Days | None = None
    between: Window = None

    @field_serializer("but_not")
    def _short(self, value: EventMatch) -> Any:
        return value.did if not value.where else value.model_dump(mode="json")


class EngagementRule(_Node):
    """``{engagement: dormant}`` or ``{engagement: [new, active]}``."""

    engagement: Annotated[Any, PlainValidator(_levels)]  # a Level or a list of Levels


class ConsentRule(_Node):
    """``{consent: "marketing:email"}``: the contact granted this purpose on this channel."""

    consent: ConsentName


class SegmentRule(_Node):
    """``{segment: high-value}``: a member of another segment of the workspace."""

    segment: SegmentKey


class PersonaRule(_Node):
    """``{persona: ops-manager}``: a contact of that persona (assigned it, or in its segment)."""

    persona: SegmentKey


class AllOf(_Node):
    """``{all: [...]}``: every rule holds."""

    all: Annotated[list[Rule], Field(min_length=1)]


class AnyOf(_Node):
    """``{any: [...]}``: at least one rule holds."""

    any: Annotated[list[Rule], Field(min_length=1)]


class NotRule(_Node):
    """``{not: rule}``: the rule does not hold."""

    not_: Rule = Field(alias="not")


# key that identifies the kind of a rule written as a mapping -> its class. Order matters:
# ``but_not`` is looked for before ``did``. Tags start with "~" so error paths can drop them.
_KINDS: Final[tuple[tuple[str, type[_Node]], ...]] = (
    ("all", AllOf),
    ("any", AnyOf),
    ("not", NotRule),
    ("field", FieldRule),
    ("but_not", DidButNotRule),
    ("did", DidRule),
    ("engagement", EngagementRule),
    ("consent", ConsentRule),
    ("segment", SegmentRule),
    ("persona", PersonaRule),
)
RULE_KEYS: Final = tuple(key for key, _ in _KINDS)


def _kind(data: Any) -> str | None:
    if isinstance(data, dict):
        return next((f"~{key}" for key, _ in _KINDS if key in data), None)
    return next((f"~{key}" for key, cls in _KINDS if type(data) is cls), None)


Rule: TypeAlias = Annotated[
    Union[  # noqa: UP007  (a tagged union needs the Union form for Tag annotations)
        Annotated[AllOf, Tag("~all")],
        Annotated[AnyOf, Tag("~any")],
        Annotated[NotRule, Tag("~not")],
        Annotated[FieldRule, Tag("~field")],
        Annotated[DidButNotRule, Tag("~but_not")],
        Annotated[DidRule, Tag("~did")],
        Annotated[EngagementRule, Tag("~engagement")],
        Annotated[ConsentRule, Tag("~consent")],
        Annotated[SegmentRule, Tag("~segment")],
        Annotated[PersonaRule, Tag("~persona")],
    ],
    Discriminator(
        _kind,
        custom_error_type="unknown_rule",
        custom_error_message=f"expected a rule: a mapping with one of {', '.join(RULE_KEYS)}",
    ),
]
RuleNode: TypeAlias = (
    AllOf
    | AnyOf
    | NotRule
    | FieldRule
    | DidButNotRule
    | DidRule
    | EngagementRule
    | ConsentRule
    | SegmentRule
    | PersonaRule
)


RULE_TYPES: Final = tuple(cls for _, cls in _KINDS)


class SegmentDefinition(_Node):
    """A named segment as stored and as written in campaign files: key, name and rule."""

    key: SegmentKey
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    rule: Rule


for _model in (AllOf, AnyOf, NotRule, SegmentDefinition):
    _model.model_rebuild()

_RULE: Final = TypeAdapter(Rule)


def children(rule: RuleNode) -> Sequence[tuple[str, RuleNode]]:
    """The sub-rules of a rule with their path suffixes (``.all[0]``, ``.not``); leaves: none."""
    if isinstance(rule, AllOf):
        return [(f".all[{i}]", child) for i, child in enumerate(rule.all)]
    if isinstance(rule, AnyOf):
        return [(f".any[{i}]", child) for i, child in enumerate(rule.any)]
    if isinstance(rule, NotRule):
        return [(".not", rule.not_)]
    return []


def parse_rule(data: Any, *, root: str = "rule") -> RuleNode:
    """The rule tree in ``data`` (parsed JSON or YAML); InvalidInput names each bad path.

    Only the shape is checked here; ``validate.validate_rule`` checks the meaning.
    """
    _check_raw(data, root)
    try:
        rule: RuleNode = _RULE.validate_python(data)
    except ValidationError as error:
        raise _invalid(error, root) from None
    return rule


def parse_segment(data: Any) -> SegmentDefinition:
    """A segment definition ``{key, name, description, rule}`` from parsed JSON or YAML."""
    _check_raw(data, "")
    try:
        return SegmentDefinition.model_validate(data)
    except ValidationError as error:
        raise _invalid(error, "") from None


def rule_to_data(rule: RuleNode) -> dict[str, Any]:
    """The rule as plain JSON data, in the same readable form it is written in."""
    data: dict[str, Any] = _RULE.dump_python(
        rule, mode="json", by_alias=True, exclude_none=True, exclude_defaults=True
    )
    return data


def segment_to_data(segment: SegmentDefinition) -> dict[str, Any]:
    """The segment definition as plain JSON data (what is stored, and what YAML shows)."""
    return segment.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)


def _invalid(error: ValidationError, root: str) -> InvalidInput:
    problems = []
    for problem in problems_from(error):
        # Drop the union tags ("~all") pydantic puts in the path of a tagged union.
        parts = [p for p in problem.path.split(".") if not p.startswith("~")]
        path = ".".join(parts).replace(".[", "[") if parts else ""
        path = path.removeprefix("(root)")
        problems.append(FieldProblem(_join(root, path), problem.problem))
    return rule_rejected(problems)


def _join(root: str, path: str) -> str:
    if not path:
        return root or "(root)"
    if not root or path.startswith("["):
        return root + path
    return f"{root}.{path}"


def rule_rejected(problems: Sequence[FieldProblem]) -> InvalidInput:
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return InvalidInput(f"segment rule rejected: {first.path}: {first.problem}{more}", problems)


def _check_raw(data: Any, root: str) -> None:
    """Depth and size of the raw data, walked without recursion: a 10,000-deep tree is refused
    with the path of the first node past the limit, before anything recursive touches it."""
    stack: list[tuple[Any, list[str | int], int]] = [(data, [], 1)]
    containers = 0
    while stack:
        node, loc, depth = stack.pop()
        if not isinstance(node, dict | list):
            continue
        containers += 1
        if depth > MAX_RAW_DEPTH:
            path = _join(root, field_path(loc) if loc else "")
            problem = f"nested too deeply: a rule tree may be at most {MAX_DEPTH} rules deep"
            raise rule_rejected([FieldProblem(path, problem)])
        if containers > MAX_RAW_CONTAINERS:
            problem = f"too large: a rule tree may have at most {MAX_NODES} rules"
            raise rule_rejected([FieldProblem(root or "(root)", problem)])
        entries: list[tuple[str | int, Any]] = (
            [(str(key), value) for key, value in node.items()]
            if isinstance(node, dict)
            else list(enumerate(node))
        )
        for part, value in reversed(entries):
            if isinstance(value, dict | list):
                stack.append((value, [*loc, part], depth + 1))
