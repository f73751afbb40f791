"""Analysis parameters as people type them: funnel steps ("signup,checkout") and spans ("7d")."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

from clarion.analytics.funnels import MAX_STEPS, FunnelStep
from clarion.core.errors import FieldProblem, InvalidInput

STEP_SEPARATOR: Final = ","
URL_MARK: Final = "~"  # "page_view~/pricing": a page view whose URL contains /pricing
MAX_SPAN: Final = timedelta(days=3660)
_SPAN = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:\- ]{0,63}$")  # the collector's event type rule


def _refuse(what: str, problem: FieldProblem) -> InvalidInput:
    return InvalidInput(f"invalid {what}: {problem.path}: {problem.problem}", [problem])


def parse_span(text: str, field: str) -> timedelta:
    """``30m``, ``12h``, ``7d`` or ``2w`` as a timedelta; InvalidInput naming ``field``."""
    match = _SPAN.match(text)
    if match is None:
        shown = text[:32]
        raise _refuse(
            field, FieldProblem(field, f"{shown!r} is not a span such as 30m, 12h, 7d or 2w")
        )
    span = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    if span <= timedelta(0) or span > MAX_SPAN:
        raise _refuse(field, FieldProblem(field, "between 1 second and 3660 days"))
    return span


def parse_steps(text: str) -> list[FunnelStep]:
    """Comma-separated steps, each an event type optionally followed by ``~`` and a URL part.

    Every problem is named (``steps[2].type``); a URL part cannot hold a comma.
    """
    parts = [part.strip() for part in text.split(STEP_SEPARATOR)]
    problems = []
    if len(parts) > MAX_STEPS:
        problems.append(FieldProblem("steps", f"a funnel has 2 to {MAX_STEPS} steps"))
    steps = []
    for index, part in enumerate(parts[:MAX_STEPS]):
        type_, mark, url = part.partition(URL_MARK)
        type_, url = type_.strip(), url.strip()
        if not _TYPE.match(type_):
            problems.append(
                FieldProblem(
                    f"steps[{index}].type",
                    f"{type_[:32]!r} is not an event type (1-64 letters, digits, spaces, _.:-)",
                )
            )
        if mark and not 1 <= len(url) <= 200:
            problems.append(FieldProblem(f"steps[{index}].url", "a URL part of 1-200 characters"))
        steps.append(FunnelStep(type_, url if mark else None))
    if len(parts) < 2:
        problems.append(FieldProblem("steps", f"a funnel has 2 to {MAX_STEPS} steps"))
    if problems:
        raise InvalidInput(f"invalid funnel: {problems[0].path}: {problems[0].problem}", problems)
    return steps
