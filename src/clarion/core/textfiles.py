"""Users' text files, streamed: size check, encoding, capped lines, the error report's place."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from clarion.core.errors import FieldProblem, InvalidInput

MAX_LINE: Final = csv.field_size_limit()
# Stands in for a line longer than MAX_LINE, which is skipped without being held in memory.
OVERLONG: Final = "\x00clarion:overlong-line\x00"
ERRORS_SUFFIX: Final = ".errors.csv"


def file_size(path: Path) -> int:
    """The size of a readable file; InvalidInput for a missing path, a folder, no access."""
    try:
        if not path.is_file():
            problem = "is not a file" if path.exists() else "does not exist"
            raise InvalidInput(f"{path} {problem}", [FieldProblem("file", problem)])
        return path.stat().st_size
    except OSError as error:
        raise InvalidInput(
            f"cannot read {path}: {error.strerror}", [FieldProblem("file", str(error.strerror))]
        ) from None


def encoding_of(start: bytes) -> str:
    """The encoding its byte-order mark names (UTF-16 for Excel's "Unicode" CSV), else UTF-8."""
    if start.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return "utf-8"


def capped_lines(text: io.TextIOWrapper) -> Iterator[str]:
    """The file's lines; one longer than MAX_LINE comes out as OVERLONG, never held whole."""
    while line := text.readline(MAX_LINE):
        if len(line) < MAX_LINE or line.endswith(("\n", "\r")):
            yield line
            continue
        while (rest := text.readline(MAX_LINE)) and not rest.endswith(("\n", "\r")):
            pass  # drain the over-long line without keeping it
        yield OVERLONG + "\n"


def errors_path_for(path: Path) -> Path:
    """Where the error report of ``path`` goes: beside it, ``FILE.errors.csv``."""
    return path.with_name(path.name + ERRORS_SUFFIX)


def check_writable(errors_path: Path) -> None:
    """InvalidInput unless the error report can be written (checked before the first row)."""
    # Finding out at the first bad row would leave an import half done, its problems nowhere.
    directory = errors_path.parent
    target = errors_path if errors_path.exists() else directory
    if not os.access(target, os.W_OK):
        problem = f"cannot write the error report {errors_path.name} in {directory}"
        raise InvalidInput(
            f"{problem}; copy the file to a writable directory and import it from there",
            [FieldProblem("file", problem)],
        )
