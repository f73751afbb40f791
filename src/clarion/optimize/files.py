"""Budget files (YAML or JSON): allocation units and an optional policy, size-checked, validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clarion.core.errors import FieldProblem, InvalidInput
from clarion.core.validation import problems_from
from clarion.optimize.contracts import BudgetPolicy, UnitSpec

MAX_FILE_BYTES = 256 * 1024  # a few hundred units fit in a fraction of this


class BudgetFile(BaseModel):
    """What a budget file holds: the units and, optionally, the policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    units: list[UnitSpec] = Field(min_length=1, max_length=500)
    policy: BudgetPolicy | None = None


def _fail(source: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{source}: {problem}", [FieldProblem("(file)", problem)], source)


def read_budget(data: Any, source: str = "request") -> BudgetFile:
    """Validate ``data`` into a budget file; InvalidInput lists every problem with its path."""
    try:
        return BudgetFile.model_validate(data)
    except ValidationError as exc:
        problems = problems_from(exc)
        raise InvalidInput(
            f"invalid budget: {len(problems)} problem(s)", problems, source
        ) from None


def load_budget_file(path: Path) -> BudgetFile:
    """Read a budget file from disk; InvalidInput names the file and the problem."""
    source = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise _fail(source, f"larger than {MAX_FILE_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _fail(source, "no such file") from None
    except IsADirectoryError:
        raise _fail(source, "is a directory, not a budget file") from None
    except UnicodeDecodeError as exc:
        raise _fail(source, f"not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(source, f"malformed YAML: {exc}") from None
    return read_budget(data, source)
