"""Turn pydantic's validation errors into FieldProblems with readable paths and messages."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from clarion.core.errors import FieldProblem

_MESSAGES = {
    "extra_forbidden": "unknown field",
    "missing": "required field is missing",
}


def field_path(loc: Sequence[int | str]) -> str:
    """``("kpis", 1, "metric")`` → ``kpis[1].metric``; the empty path is ``(root)``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(root)"


def _message(error: ErrorDetails) -> str:
    if error["type"] in _MESSAGES:
        return _MESSAGES[error["type"]]
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def problems_from(
    errors: Sequence[ErrorDetails] | ValidationError, strip: Sequence[str] = ()
) -> list[FieldProblem]:
    """One FieldProblem per pydantic error; leading ``strip`` parts (e.g. ``body``) dropped."""
    details = errors.errors() if isinstance(errors, ValidationError) else errors
    problems = []
    for error in details:
        loc = list(error["loc"])
        while loc and loc[0] in strip:
            loc.pop(0)
        # Validators on tagged unions and "before" validators add function names to the path.
        loc = [p for p in loc if not (isinstance(p, str) and p.startswith("function-"))]
        problems.append(FieldProblem(field_path(loc), _message(error)))
    return problems
