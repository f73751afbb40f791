"""A stored segment as the rest of the system sees it, and the checks on a definition's data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, get_args

from clarion.audiences.segments.fields import NAME, AttributeType
from clarion.audiences.segments.rules import SegmentDefinition, parse_segment
from clarion.core.errors import FieldProblem, InvalidInput

_TYPES: Final = get_args(AttributeType)
_FIELDS: Final = ("key", "name", "description", "rule", "attribute_types")


@dataclass(frozen=True)
class StoredSegment:
    """A segment of a workspace: its definition as written, and its version history's head."""

    id: str
    workspace_id: str
    key: str
    name: str | None
    description: str | None
    rule: dict[str, Any]
    attribute_types: dict[str, AttributeType]
    version: int
    created_at: datetime
    updated_at: datetime
    refreshed_at: datetime | None

    def as_data(self) -> dict[str, Any]:
        """The segment as JSON data (what the API returns and YAML shows)."""
        return {
            "id": self.id,
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "rule": self.rule,
            "attribute_types": dict(self.attribute_types),
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "refreshed_at": self.refreshed_at.isoformat() if self.refreshed_at else None,
        }


@dataclass(frozen=True)
class SegmentInput:
    """A segment definition read from a request or a file: its shape checked, not its meaning."""

    definition: SegmentDefinition
    attribute_types: dict[str, AttributeType]


def attribute_types(value: Any, path: str = "attribute_types") -> dict[str, AttributeType]:
    """``{name: type}`` for custom attributes; InvalidInput naming the first bad entry."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problem = "maps attribute names to " + ", ".join(_TYPES)
        raise InvalidInput(f"{path}: {problem}", [FieldProblem(path, problem)])
    checked: dict[str, AttributeType] = {}
    for name, kind in value.items():
        if not isinstance(name, str) or not NAME.match(name):
            problem = f"attribute names are 1-64 of A-Z a-z 0-9 _, not {str(name)[:40]!r}"
            raise InvalidInput(f"{path}: {problem}", [FieldProblem(path, problem)])
        if kind not in _TYPES:
            problem = f"type is one of {', '.join(_TYPES)}, not {str(kind)[:40]!r}"
            raise InvalidInput(
                f"{path}.{name}: {problem}", [FieldProblem(f"{path}.{name}", problem)]
            )
        checked[name] = kind
    return checked


def segment_input(data: Any, *, key: str | None = None, root: str = "") -> SegmentInput:
    """``{key, name, description, rule, attribute_types}`` checked for shape; ``key`` fills a
    missing key (from a URL) and must match a given one."""
    if not isinstance(data, Mapping):
        problem = "expected a mapping with key, name, description, rule, attribute_types"
        raise InvalidInput(
            f"{root or 'segment'}: {problem}", [FieldProblem(root or "(root)", problem)]
        )
    body = dict(data)
    types = attribute_types(body.pop("attribute_types", None), _at(root, "attribute_types"))
    for field in list(body):
        if field not in _FIELDS:
            where = _at(root, str(field)[:40])
            raise InvalidInput(f"{where}: unknown field", [FieldProblem(where, "unknown field")])
    if key is not None and body.setdefault("key", key) != key:
        problem = f"the body's key {str(body['key'])[:64]!r} differs from {key!r}"
        raise InvalidInput(problem, [FieldProblem(_at(root, "key"), problem)])
    try:
        definition = parse_segment(body)
    except InvalidInput as error:
        if not root:
            raise
        problems = [FieldProblem(_at(root, p.path), p.problem) for p in error.problems]
        raise InvalidInput(f"{problems[0].path}: {problems[0].problem}", problems) from None
    return SegmentInput(definition, types)


def _at(root: str, path: str) -> str:
    if not root:
        return path
    return f"{root}{path}" if path.startswith("[") else f"{root}.{path}"
