"""Experiment design files (YAML or JSON): read, size-checked, validated into a design."""

from __future__ import annotations

from pathlib import Path

import yaml

from clarion.core.errors import FieldProblem, InvalidInput
from clarion.experiments.design import ExperimentDesign, read_design

MAX_FILE_BYTES = 256 * 1024  # a design is a page; anything larger is a mistake or an attack


def _fail(source: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{source}: {problem}", [FieldProblem("(file)", problem)], source)


def load_design_file(path: Path) -> ExperimentDesign:
    """Read a design file from disk into a validated design; InvalidInput names the problem."""
    source = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise _fail(source, f"larger than {MAX_FILE_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _fail(source, "no such file") from None
    except IsADirectoryError:
        raise _fail(source, "is a directory, not a design file") from None
    except UnicodeDecodeError as exc:
        raise _fail(source, f"not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(source, f"malformed YAML: {exc}") from None
    return read_design(data, source)
