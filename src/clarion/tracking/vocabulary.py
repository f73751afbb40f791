"""Typed events: the properties a known event type must carry, checked at intake."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final

# A contact's move along the pipeline, e.g. from a CRM: properties.stage, optional amount.
LIFECYCLE_CHANGE: Final = "lifecycle_change"
# One answer to a satisfaction survey: properties.score on a 1..scale scale (default 5).
SURVEY_RESPONSE: Final = "survey_response"

# The contacts' lifecycle stages, plus ``lost``: an opportunity closed without a sale.
PIPELINE_STAGES: Final = (
    "subscriber",
    "lead",
    "mql",
    "sql",
    "opportunity",
    "customer",
    "lost",
    "other",
)
MAX_AMOUNT: Final = 1e12
SCALES: Final = range(3, 11)  # 1-3 up to 1-10 point scales


class PropertyProblem(ValueError):
    """A typed event's property is missing or wrong; ``field`` is ``properties.<name>``."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(problem)
        self.field = f"properties.{name}"
        self.problem = problem


def _number(properties: Mapping[str, Any], name: str) -> float | None:
    value = properties.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PropertyProblem(name, "expected a finite number")
    return float(value)


def _lifecycle_change(properties: Mapping[str, Any]) -> None:
    stage = properties.get("stage")
    if stage not in PIPELINE_STAGES:
        raise PropertyProblem("stage", f"required: one of {', '.join(PIPELINE_STAGES)}")
    amount = _number(properties, "amount")
    if amount is not None and not 0 <= amount <= MAX_AMOUNT:
        raise PropertyProblem("amount", "an amount between 0 and 10^12")


def _survey_response(properties: Mapping[str, Any]) -> None:
    scale = properties.get("scale", 5)
    if isinstance(scale, bool) or not isinstance(scale, int) or scale not in SCALES:
        raise PropertyProblem("scale", "the top of the scale: a whole number from 3 to 10")
    score = _number(properties, "score")
    if score is None:
        raise PropertyProblem("score", f"required: a whole number from 1 to {scale}")
    if score != int(score) or not 1 <= score <= scale:
        raise PropertyProblem("score", f"a whole number from 1 to {scale}")


CHECKS: Final[dict[str, Callable[[Mapping[str, Any]], None]]] = {
    LIFECYCLE_CHANGE: _lifecycle_change,
    SURVEY_RESPONSE: _survey_response,
}


def check_properties(type_: str, properties: Any) -> None:
    """PropertyProblem if ``type_`` is a typed event whose properties are missing or wrong."""
    check = CHECKS.get(type_)
    if check is None:
        return
    if not isinstance(properties, dict):
        raise PropertyProblem("*", "required for this event type: an object")
    check(properties)
