"""An ad-hoc preview request: a rule, the types of the custom attributes it uses, a sample size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from clarion.audiences.segments.context import SegmentContext
from clarion.audiences.segments.fields import AttributeType
from clarion.core.errors import FieldProblem, InvalidInput

_TYPES = get_args(AttributeType)


@dataclass(frozen=True)
class PreviewRequest:
    """What to preview: the raw rule (validated when compiled), its context and sample size."""

    rule: Any
    context: SegmentContext
    sample: int = 10


def preview_request(data: Any, *, sample: int = 10) -> PreviewRequest:
    """``{"rule": ..., "attribute_types": {name: type}, "sample": n}`` or a bare rule."""
    if isinstance(data, dict) and "rule" in data:
        unknown = sorted(set(data) - {"rule", "attribute_types", "sample", "key", "name"})
        if unknown:
            raise InvalidInput(
                f"unknown field {unknown[0]!r}", [FieldProblem(unknown[0], "unknown field")]
            )
        types = data.get("attribute_types") or {}
        if not isinstance(types, dict) or not all(
            isinstance(k, str) and v in _TYPES for k, v in types.items()
        ):
            raise InvalidInput(
                "attribute_types maps attribute names to " + ", ".join(_TYPES),
                [FieldProblem("attribute_types", f"each type is one of {', '.join(_TYPES)}")],
            )
        raw_sample = data.get("sample", sample)
        if isinstance(raw_sample, bool) or not isinstance(raw_sample, int):
            raise InvalidInput("sample is a whole number", [FieldProblem("sample", "not a number")])
        return PreviewRequest(data["rule"], SegmentContext(attribute_types=types), raw_sample)
    return PreviewRequest(data, SegmentContext(), sample)
