"""Domain errors: stable codes and field problems, mapped to HTTP and CLI at the edges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field of an input, e.g. ``budget.split`` / "must sum to 24000"."""

    path: str
    problem: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "problem": self.problem}


@dataclass
class ClarionError(Exception):
    """Base of every error the domain raises on purpose; ``code`` is stable for clients."""

    message: str
    details: dict[str, Any] = field(default_factory=dict)
    code: str = "error"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class NotFound(ClarionError):
    """The named object does not exist (in this workspace)."""

    def __init__(self, kind: str, ref: str) -> None:
        super().__init__(f"{kind} {ref!r} not found", {"kind": kind, "ref": ref}, "not_found")


class InvalidInput(ClarionError):
    """Input failed validation; ``details['problems']`` lists each field and its problem."""

    def __init__(
        self, message: str, problems: Sequence[FieldProblem], source: str | None = None
    ) -> None:
        details: dict[str, Any] = {"problems": [p.as_dict() for p in problems]}
        if source is not None:
            details["source"] = source
        super().__init__(message, details, "invalid_input")
        self.problems = tuple(problems)
        self.source = source


class IllegalTransition(ClarionError):
    """A lifecycle transition that the transition table does not allow."""

    def __init__(self, kind: str, ref: str, current: str, target: str, allowed: Sequence[str]):
        allowed_text = ", ".join(allowed) if allowed else "none: it is final"
        super().__init__(
            f"{kind} {ref!r} cannot go from {current} to {target} (allowed: {allowed_text})",
            {"current": current, "target": target, "allowed": list(allowed)},
            "illegal_transition",
        )


class Conflict(ClarionError):
    """The request clashes with the current state of stored data."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details or {}, "conflict")


class Unauthorized(ClarionError):
    """Missing, unknown, revoked or wrong-kind credentials."""

    def __init__(self, message: str = "a valid API key is required") -> None:
        super().__init__(message, {}, "unauthorized")


class NotInitialised(ClarionError):
    """The data directory has not been set up with ``clarion init``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, {}, "not_initialised")


class StoreBusy(ClarionError):
    """A single-writer store (an embedded DuckDB file) is held by another process."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details or {}, "store_busy")


class MalformedBody(ClarionError):
    """A request body that is not the JSON it claims to be."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details or {}, "malformed_json")


class TooLarge(ClarionError):
    """A request or file over its size or count limit."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details or {}, "too_large")
