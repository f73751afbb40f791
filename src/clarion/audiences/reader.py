"""Reading a contacts file as a stream: CSV or JSONL, columns mapped to fields, row by row."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, NamedTuple, Self

import orjson

from clarion.audiences import normalise
from clarion.audiences.contracts import CONTACT_FIELDS
from clarion.audiences.records import KNOWN_KEYS, consent_flag, parse_pair
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.core.textfiles import MAX_LINE, OVERLONG, capped_lines, encoding_of, file_size

# One physical line is read at most this long (csv's own cell limit); the rest of a longer
# one is skipped without being held, so a hostile file cannot make one line take the memory.
DELIMITERS: Final = (",", ";", "\t")
WHOLE_ROW: Final = "(row)"
IGNORE: Final = "-"
JSONL_SUFFIXES: Final = (".jsonl", ".ndjson")

# Header names (compared lower-case, with spaces, _ and - alike) each field is read from.
ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "external_id": ("external id", "id", "customer id", "crm id", "contact id", "record id"),
    "email": ("email", "e mail", "email address", "e mail address", "mail"),
    "phone": ("phone", "phone number", "mobile", "mobile phone", "telephone", "tel", "cell"),
    "first_name": ("first name", "firstname", "given name", "forename"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "address_line1": ("address line1", "address line 1", "address", "street", "address1"),
    "address_line2": ("address line2", "address line 2", "address2"),
    "postal_code": ("postal code", "postcode", "zip", "zip code", "postalcode"),
    "city": ("city", "town"),
    "region": ("region", "state", "province", "county"),
    "country": ("country", "country code"),
    "persona": ("persona",),
    "lifecycle_stage": ("lifecycle stage", "lifecycle", "stage"),
}
_BY_ALIAS: Final = {alias: name for name, aliases in ALIASES.items() for alias in aliases}


class Record(NamedTuple):
    """One data row: its number (the header is row 1; a JSONL file counts lines), its values
    by field (None when unreadable or blank), and problems found while reading it."""

    row: int
    raw: dict[str, Any] | None
    problems: list[tuple[str, str]]


def header_key(name: str) -> str:
    """How header names are compared: case, surrounding spaces, ``_``/``-``/space alike."""
    return " ".join(name.replace("\ufeff", "").replace("_", " ").replace("-", " ").split()).lower()


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """``["E-Mail Adresse=email", "Tier=attributes.tier"]`` → column → target; checked."""
    mapping: dict[str, str] = {}
    problems = []
    for item in items:
        column, sep, target = item.partition("=")
        column, target = column.strip(), target.strip()
        if not sep or not column or not target:
            problems.append(FieldProblem("--map", f"{item[:60]!r} is not COLUMN=FIELD"))
            continue
        try:
            check_target(target)
        except ValueError as error:
            problems.append(FieldProblem("--map", f"{column[:60]}: {error}"))
            continue
        mapping[header_key(column)] = target
    if problems:
        raise InvalidInput(f"--map: {problems[0].problem}", problems)
    return mapping


def check_target(target: str) -> None:
    """A mapping target: a contact field, ``attributes.KEY``, ``consent:PURPOSE:CHANNEL``, ``-``."""
    if target in CONTACT_FIELDS or target == IGNORE:
        return
    if target.startswith("attributes."):
        name = target.removeprefix("attributes.")
        if normalise.attribute_key(name) != name:
            raise ValueError(f"{name[:40]!r} is not an attribute name (a-z, 0-9, _)")
        return
    if target.startswith("consent:"):
        parse_pair(target.removeprefix("consent:"))
        return
    raise ValueError(
        f"unknown field {target[:40]!r}; use one of {', '.join(CONTACT_FIELDS)}, "
        "attributes.NAME, consent:PURPOSE:CHANNEL or - (ignore)"
    )


class ContactFile:
    """An open contacts file, positioned after its header (CSV); iterate ``records()`` once."""

    def __init__(self, path: Path, mapping: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.size = file_size(path)
        self.format: Literal["csv", "jsonl"] = (
            "jsonl" if path.suffix.lower() in JSONL_SUFFIXES else "csv"
        )
        self.mapping = dict(mapping or {})
        self.columns: dict[str, str] = {}  # column as written -> target, for the report
        self.ignored: tuple[str, ...] = ()
        self._names: dict[str, str] = {}  # field -> column as written (for problems)
        try:
            self._binary = path.open("rb")
        except OSError as error:
            problem = str(error.strerror or error)
            raise InvalidInput(
                f"cannot read {path}: {problem}", [FieldProblem("file", problem)]
            ) from None
        try:
            start = self._binary.peek(4)[:4]
            if start.startswith(b"PK\x03\x04"):
                raise InvalidInput(
                    f"{path.name} looks like an Excel workbook: export it as CSV first",
                    [FieldProblem("file", "not a CSV file")],
                )
            self._text = io.TextIOWrapper(
                self._binary, encoding=encoding_of(start), errors="surrogateescape", newline=""
            )
            self._lines = capped_lines(self._text)
            if self.format == "csv":
                self._open_csv()
        except BaseException:
            self._binary.close()
            raise

    @property
    def bytes_read(self) -> int:
        """How far into the file reading has got (for progress)."""
        return self._binary.tell() if not self._binary.closed else self.size

    def name_of(self, field: str) -> str:
        """The column a field is read from, as the file writes it (what a person looks for)."""
        return self._names.get(field, field)

    def records(self) -> Iterator[Record]:
        """The data rows, in file order."""
        return self._csv_records() if self.format == "csv" else self._jsonl_records()

    # CSV ---------------------------------------------------------------------------------

    def _open_csv(self) -> None:
        first = ""
        self._header_row = 0  # blank lines may come before the header
        for line in self._lines:
            self._header_row += 1
            if line.strip():
                first = line
                break
        if not first:
            raise InvalidInput(f"{self.path.name} is empty", [FieldProblem("file", "is empty")])
        if first.startswith(OVERLONG):
            raise InvalidInput(
                f"the header of {self.path.name} is longer than {MAX_LINE} characters",
                [FieldProblem("header", "too long")],
            )
        # The delimiter that splits the header into the most cells; a quoted header cell may
        # span lines, so the header is parsed with the lines that follow it.
        self.delimiter = max(DELIMITERS, key=lambda d: (len(_first_record(first, d)), d == ","))
        self._reader = csv.reader(itertools.chain([first], self._lines), delimiter=self.delimiter)
        try:
            header = next(self._reader)
        except csv.Error as error:
            raise InvalidInput(
                f"the header of {self.path.name} cannot be read as CSV: {error}",
                [FieldProblem("header", str(error))],
            ) from None
        self._plan(header)

    def _plan(self, header: list[str]) -> None:
        names = [cell.replace("\ufeff", "").strip() for cell in header]
        keys = [header_key(name) for name in names]
        duplicated = sorted({n for n, k in zip(names, keys, strict=True) if keys.count(k) > 1})
        if duplicated:
            raise InvalidInput(
                f"the header of {self.path.name} names {', '.join(duplicated)} more than once",
                [FieldProblem("header", f"{', '.join(duplicated)} appears more than once")],
            )
        unknown = sorted(set(self.mapping) - set(keys))
        if unknown:
            problem = f"the file has no column {unknown[0]!r}; its columns: {', '.join(names)}"
            raise InvalidInput(f"--map: {problem}", [FieldProblem("--map", problem)])
        self.width = len(names)
        self._fields: list[tuple[int, str]] = []
        self._attributes: list[tuple[int, str, str]] = []
        self._consents: list[tuple[int, str, str, str]] = []
        ignored = []
        taken: dict[str, str] = {}
        for index, (name, key) in enumerate(zip(names, keys, strict=True)):
            target = self.mapping.get(key) or _BY_ALIAS.get(key)
            if target is None:
                try:
                    target = "attributes." + normalise.attribute_key(name)
                except ValueError:
                    target = IGNORE
            if target == IGNORE:
                ignored.append(name or f"(column {index + 1})")
                continue
            if target in taken:
                problem = f"{taken[target]!r} and {name!r} both fill {target}: map one with --map"
                raise InvalidInput(problem, [FieldProblem("header", problem)])
            taken[target] = name
            self.columns[name] = target
            if target.startswith("attributes."):
                self._attributes.append((index, target.removeprefix("attributes."), name))
            elif target.startswith("consent:"):
                purpose, channel = parse_pair(target.removeprefix("consent:"))
                self._consents.append((index, purpose, channel, name))
            else:
                self._fields.append((index, target))
                self._names[target] = name
        self.ignored = tuple(ignored)
        if "email" not in taken and "external_id" not in taken:
            problem = (
                f"no email or external id column among {', '.join(names)}: "
                "name one with --map COLUMN=email (or =external_id)"
            )
            raise InvalidInput(f"{self.path.name}: {problem}", [FieldProblem("header", problem)])

    def _csv_records(self) -> Iterator[Record]:
        row = self._header_row
        while True:
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as error:
                row += 1  # the parser starts afresh at the next line
                yield Record(row, None, [(WHOLE_ROW, f"cannot be read as CSV: {error}")])
                continue
            row += 1
            if cells == [OVERLONG]:
                problem = f"a line is longer than {MAX_LINE} characters; skipped"
                yield Record(row, None, [(WHOLE_ROW, problem)])
                continue
            if not any(cells) or not "".join(cells).strip():
                yield Record(row, None, [])  # blank
                continue
            if len(cells) != self.width and (
                len(cells) < self.width or any(c.strip() for c in cells[self.width :])
            ):
                hint = " (an unquoted delimiter inside a value?)" if len(cells) > self.width else ""
                problem = f"has {len(cells)} cells but the header has {self.width}{hint}"
                yield Record(row, None, [(WHOLE_ROW, problem)])
                continue
            yield self._csv_values(row, cells)

    def _csv_values(self, row: int, cells: list[str]) -> Record:
        raw: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for index, field in self._fields:
            if value := cells[index]:
                raw[field] = value
        if self._attributes and (attributes := self._csv_attributes(cells, problems)):
            raw["attributes"] = attributes
        if self._consents and (consents := self._csv_consents(cells, problems)):
            raw["consents"] = consents
        return Record(row, raw, problems)

    def _csv_attributes(self, cells: list[str], problems: list[tuple[str, str]]) -> dict[str, Any]:
        attributes = {}
        for index, key, name in self._attributes:
            if value := cells[index]:
                try:
                    if (text := normalise.attribute_text(value)) is not None:
                        attributes[key] = text
                except ValueError as error:
                    problems.append((name, str(error)))
        return attributes

    def _csv_consents(
        self, cells: list[str], problems: list[tuple[str, str]]
    ) -> list[dict[str, str]]:
        consents = []
        for index, purpose, channel, name in self._consents:
            try:
                status = consent_flag(cells[index])
            except ValueError as error:
                problems.append((name, str(error)))
                continue
            if status is not None:
                consents.append({"purpose": purpose, "channel": channel, "status": status})
        return consents

    # JSONL -------------------------------------------------------------------------------

    def _jsonl_records(self) -> Iterator[Record]:
        for row, line in enumerate(self._lines, start=1):
            if line.startswith(OVERLONG):
                problem = f"a line is longer than {MAX_LINE} characters; skipped"
                yield Record(row, None, [(WHOLE_ROW, problem)])
                continue
            if not line.strip():
                yield Record(row, None, [])
                continue
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                problem = f"is not JSON: {error.msg} at column {error.colno}"
                yield Record(row, None, [(WHOLE_ROW, problem)])
                continue
            if not isinstance(data, dict):
                yield Record(row, None, [(WHOLE_ROW, "expected a JSON object")])
                continue
            yield self._json_values(row, data)

    def _json_values(self, row: int, data: dict[str, Any]) -> Record:
        raw: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        consents: list[Any] = []
        problems: list[tuple[str, str]] = []
        for name, value in data.items():
            if value is None or (target := self._json_target(name, problems)) is None:
                continue
            if target == "attributes" and isinstance(value, dict):
                attributes.update(value)
            elif target == "consents" and isinstance(value, list):
                consents.extend(value)
            elif target in ("attributes", "consents"):
                problems.append(
                    (target, f"expected {'an object' if target[0] == 'a' else 'a list'}")
                )
            elif target.startswith("attributes."):
                attributes[target.removeprefix("attributes.")] = value
            elif target.startswith("consent:"):
                self._json_consent(name, target, value, consents, problems)
            else:
                raw[target] = value
        if attributes:
            raw["attributes"] = attributes
        if consents:
            raw["consents"] = consents
        return Record(row, raw, problems)

    def _json_target(self, name: str, problems: list[tuple[str, str]]) -> str | None:
        target = self.mapping.get(header_key(name)) or (name if name in KNOWN_KEYS else None)
        if target == IGNORE:
            return None
        if target is None:
            try:
                return "attributes." + normalise.attribute_key(name)
            except ValueError as error:
                problems.append((name[:64], str(error)))
                return None
        return target

    @staticmethod
    def _json_consent(
        name: str, target: str, value: Any, consents: list[Any], problems: list[tuple[str, str]]
    ) -> None:
        purpose, channel = parse_pair(target.removeprefix("consent:"))
        status = _json_flag(value)
        if status is None:
            problems.append((name[:64], "expected true or false"))
        elif status != "none":
            consents.append({"purpose": purpose, "channel": channel, "status": status})

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


def _json_flag(value: Any) -> str | None:
    if isinstance(value, bool):
        return "granted" if value else "withdrawn"
    if isinstance(value, str):
        try:
            return consent_flag(value) or "none"
        except ValueError:
            return None
    return None


def _first_record(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []
