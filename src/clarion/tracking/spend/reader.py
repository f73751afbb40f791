"""Reading a spend file as a stream: encoding, delimiter, header row, then numbered records."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Final, NamedTuple, Self

from clarion.core.errors import FieldProblem, InvalidInput
from clarion.core.textfiles import MAX_LINE, OVERLONG, capped_lines, encoding_of, file_size
from clarion.tracking.spend.formats import (
    LAYOUTS,
    FormatChoice,
    HeaderMatch,
    describe_headers,
    detect,
    header_name,
    match_header,
)

# One physical line is read at most this long; the rest of a longer one is skipped, so a
# hostile file cannot make a single line take the memory. It equals csv's default field
# limit, which bounds a quoted cell that spans lines the same way.
PREAMBLE: Final = 10  # records before the header (Google Ads puts two title lines there)
_PEEK_LINES: Final = 40
DELIMITERS: Final = (",", ";", "\t")
# What the line reader hands the CSV parser in place of an over-long line: one cell that no
# real file can produce by accident, recognised below and reported as a row problem.


class Record(NamedTuple):  # a tuple: one is made per row, and tuples are cheap to make
    """One record after the header: its spreadsheet row number and cells, or why it is unread."""

    row: int
    cells: list[str]
    problem: str | None = None


class SpendFile:
    """An open spend file positioned after its header; iterate ``records()`` once."""

    def __init__(self, path: Path, choice: FormatChoice = "auto") -> None:
        self.path = path
        self.size = file_size(path)
        try:
            self._binary = path.open("rb")
        except OSError as error:
            problem = str(error.strerror or error)
            raise InvalidInput(
                f"cannot read {path}: {problem}", [FieldProblem("file", problem)]
            ) from None
        try:
            start = self._binary.peek(4)[:4]
            self.encoding = encoding_of(start)
            self._text = io.TextIOWrapper(
                self._binary, encoding=self.encoding, errors="surrogateescape", newline=""
            )
            self._lines = capped_lines(self._text)
            self._peeked = list(itertools.islice(self._lines, _PEEK_LINES))
            self.header, self.delimiter, self.header_row = _find_header(
                path, self._peeked, choice, start
            )
        except BaseException:
            self._binary.close()
            raise

    @property
    def decimal_mark(self) -> str:
        """``,`` in ``;``-separated files (as European spreadsheets write them), else ``.``."""
        return "," if self.delimiter == ";" else "."

    @property
    def bytes_read(self) -> int:
        """How far into the file reading has got (for progress)."""
        return self._binary.tell() if not self._binary.closed else self.size

    def records(self) -> Iterator[Record]:
        """The records after the header, numbered as a spreadsheet shows them (header = its row)."""
        reader = csv.reader(itertools.chain(self._peeked, self._lines), delimiter=self.delimiter)
        self._peeked = []
        row = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                # The parser starts afresh at the next line, so one broken record costs one row.
                row += 1
                yield Record(row, [], f"cannot be read as CSV: {error}")
                continue
            row += 1
            if row <= self.header_row:
                continue
            if cells == [OVERLONG]:
                yield Record(row, [], f"a line is longer than {MAX_LINE} characters; skipped")
                continue
            yield Record(row, cells)

    def close(self) -> None:
        self._binary.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _find_header(
    path: Path, lines: list[str], choice: FormatChoice, start: bytes
) -> tuple[HeaderMatch, str, int]:
    if not any(line.strip() for line in lines):
        raise InvalidInput(f"{path.name} is empty", [FieldProblem("file", "is empty")])
    # Per delimiter, the first row that is a header; across delimiters, the earliest such
    # row wins, then the one that recognises more columns.
    found: list[tuple[int, int, HeaderMatch, str]] = []
    for delimiter in DELIMITERS:
        for row, cells in enumerate(_parse(lines, delimiter), start=1):
            if (match := detect(cells, choice)) is not None:
                found.append((row, -len(match.columns), match, delimiter))
                break
    if not found:
        raise _no_header(path, lines, choice, start)
    row, _, header, delimiter = min(found, key=lambda item: (item[0], item[1]))
    if header.duplicated:
        names = ", ".join(header.duplicated)
        raise InvalidInput(
            f"the header of {path.name} (row {row}) names {names} more than once",
            [FieldProblem(f"row {row}", f"{names} appears more than once")],
        )
    return header, delimiter, row


def _parse(lines: list[str], delimiter: str) -> Iterator[list[str]]:
    reader = csv.reader(lines, delimiter=delimiter)
    for _ in range(PREAMBLE + 1):
        try:
            yield next(reader)
        except (StopIteration, csv.Error):
            return


def _no_header(path: Path, lines: list[str], choice: FormatChoice, start: bytes) -> InvalidInput:
    if start.startswith(b"PK\x03\x04"):
        hint = f"{path.name} looks like an Excel workbook: export it as CSV first"
        return InvalidInput(hint, [FieldProblem("file", "not a CSV file")])
    layouts = LAYOUTS.values() if choice == "auto" else (LAYOUTS[choice],)
    expected = "; ".join(f"{layout.name}: {describe_headers(layout)}" for layout in layouts)
    rows = list(enumerate(_parse(lines, _likely_delimiter(lines)), start=1))
    row, closest = min(
        ((row, match_header(cells, layout)) for row, cells in rows for layout in layouts),
        key=lambda item: (len(item[1].missing), item[0]),
    )
    layout = closest.layout
    missing = ", ".join(header_name(layout, f) for f in sorted(closest.missing))
    which = "any known layout" if choice == "auto" else f"the {choice} layout"
    return InvalidInput(
        f"no header row of {which} in the first {PREAMBLE + 1} rows of {path.name} "
        f"(expected columns — {expected}; see docs/spend-import.md)",
        [FieldProblem("header", f"closest: row {row} as {layout.name}, lacking {missing}")],
    )


def _likely_delimiter(lines: list[str]) -> str:
    sample = "".join(lines[:5])
    return max(DELIMITERS, key=sample.count)
