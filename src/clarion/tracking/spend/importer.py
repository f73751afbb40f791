"""Ad spend import: a file's valid rows into the event store, its bad rows into FILE.errors.csv."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import IO, Any, Final, Self

import pyarrow as pa

from clarion.core.clock import Clock
from clarion.core.textfiles import check_writable, errors_path_for
from clarion.stores.events import TABLES, EventStore
from clarion.tracking.spend.current import next_import_stamp
from clarion.tracking.spend.formats import FormatChoice
from clarion.tracking.spend.reader import SpendFile
from clarion.tracking.spend.rows import COLUMNS, Defaults, RowParser

BATCH_ROWS: Final = 10_000  # rows per append: one transaction, a few MB of Python objects
PROGRESS_EVERY: Final = 2_000  # records between progress callbacks
KEEP_PROBLEMS: Final = 5  # problems carried in the report (all of them go to the file)

Progress = Callable[[int, int], None]  # (records read, bytes read)


@dataclass(frozen=True)
class RowProblem:
    """One problem of one row: its spreadsheet row number, the column header, what is wrong."""

    row: int
    field: str
    problem: str


@dataclass(frozen=True)
class ImportReport:
    """What an import did: counts, where the rejected rows are explained, what it covered."""

    source: str  # as stored in ad_spend.source, e.g. "csv:google_ads:june.csv"
    layout: str
    rows_read: int  # data rows (rows_imported + rows_rejected)
    rows_imported: int
    rows_rejected: int
    rows_skipped: int  # blank rows and platform total/summary rows
    errors_path: Path | None  # FILE.errors.csv, or None when every row was good
    first_day: date | None
    last_day: date | None
    days: int  # distinct days among imported rows
    cost_by_currency: Mapping[str, Decimal]  # imported spend, exact
    imported_at: datetime
    ignored_columns: tuple[str, ...] = ()
    problems: tuple[RowProblem, ...] = ()  # the first few, for display

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates ISO, amounts as strings (exact)."""
        return {
            "source": self.source,
            "layout": self.layout,
            "rows_read": self.rows_read,
            "rows_imported": self.rows_imported,
            "rows_rejected": self.rows_rejected,
            "rows_skipped": self.rows_skipped,
            "errors_path": str(self.errors_path) if self.errors_path else None,
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "days": self.days,
            "cost_by_currency": {code: str(total) for code, total in self.cost_by_currency.items()},
            "imported_at": self.imported_at.isoformat(),
            "ignored_columns": list(self.ignored_columns),
            "problems": [p.__dict__ for p in self.problems],
        }


def import_spend(
    events: EventStore,
    path: Path,
    *,
    workspace_id: str,
    clock: Clock,
    layout: FormatChoice = "auto",
    channel: str | None = None,
    currency: str | None = None,
    campaign_ids: Mapping[str, str] | None = None,
    batch_size: int = BATCH_ROWS,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Import one spend file; importing it again replaces, never doubles, what it reported.

    The file's shape is checked first (InvalidInput, nothing written). Then each row is
    checked on its own: good rows are appended in batches, bad ones are explained in
    ``FILE.errors.csv``. ``channel`` and ``currency`` fill rows that name none (the channel
    defaults to the layout's). ``campaign_ids`` maps Clarion campaign keys to campaign ids:
    a platform campaign name equal to a key is stored as that id, any other as written.
    """
    defaults = Defaults.of(channel, currency)
    errors_path = errors_path_for(path)
    with SpendFile(path, layout) as spend:
        parser = RowParser(
            spend.header, spend.decimal_mark, defaults, campaign_ids or {}, clock.now().date()
        )
        check_writable(errors_path)
        errors_path.unlink(missing_ok=True)  # a report from an earlier import is stale now
        imported_at = next_import_stamp(events, workspace_id, clock)
        source = f"csv:{spend.header.layout.name}:{path.name}"
        batch = _Batch(events, {"workspace_id": workspace_id, "source": source}, imported_at)
        tally = _Tally()
        with _ErrorReport(errors_path) as report:
            for seen, record in enumerate(spend.records(), start=1):
                row, problems = parser.parse(record)
                if row is not None:
                    tally.add(row)
                    batch.rows.append(row)
                    if len(batch.rows) >= batch_size:
                        batch.flush()
                elif problems:
                    tally.rejected += 1
                    report.add(record.row, problems)
                else:
                    tally.skipped += 1
                if on_progress is not None and seen % PROGRESS_EVERY == 0:
                    on_progress(tally.read, spend.bytes_read)
            batch.flush()
        if on_progress is not None:
            on_progress(tally.read, spend.size)
        return ImportReport(
            source=source,
            layout=spend.header.layout.name,
            rows_read=tally.read,
            rows_imported=tally.imported,
            rows_rejected=tally.rejected,
            rows_skipped=tally.skipped,
            errors_path=errors_path if tally.rejected else None,
            first_day=min(tally.days) if tally.days else None,
            last_day=max(tally.days) if tally.days else None,
            days=len(tally.days),
            cost_by_currency=MappingProxyType(dict(sorted(tally.cost.items()))),
            imported_at=imported_at,
            ignored_columns=spend.header.ignored,
            problems=tuple(report.kept),
        )


@dataclass
class _Tally:
    imported: int = 0
    rejected: int = 0
    skipped: int = 0
    days: set[date] = field(default_factory=set)  # bounded: at most one per calendar day
    cost: dict[str, Decimal] = field(default_factory=dict)

    @property
    def read(self) -> int:
        return self.imported + self.rejected

    def add(self, row: list[Any]) -> None:
        self.imported += 1
        self.days.add(row[_DAY])
        self.cost[row[_CURRENCY]] = self.cost.get(row[_CURRENCY], Decimal(0)) + row[_COST]


_DAY, _COST, _CURRENCY = (COLUMNS.index(c) for c in ("day", "cost", "currency"))
_SCHEMA: Final = TABLES["ad_spend"].arrow_schema


class _Batch:
    """Good rows waiting to be appended, handed to the store as one Arrow table."""

    def __init__(self, events: EventStore, constants: dict[str, str], at: datetime) -> None:
        self.events = events
        self.constants = constants
        self.at = at
        self.rows: list[list[Any]] = []

    def flush(self) -> None:
        if not self.rows:
            return
        size = len(self.rows)
        columns: dict[str, Any] = dict(zip(COLUMNS, zip(*self.rows, strict=True), strict=True))
        columns["cost"] = [float(cost) for cost in columns["cost"]]  # the store's money: float64
        arrays = {
            name: pa.array(values, type=_SCHEMA.field(name).type)
            for name, values in columns.items()
        }
        for name, value in (*self.constants.items(), ("imported_at", self.at)):
            arrays[name] = pa.repeat(pa.scalar(value, type=_SCHEMA.field(name).type), size)
        self.events.append("ad_spend", pa.table(arrays))
        self.rows = []


class _ErrorReport:
    """``FILE.errors.csv``, opened at the first problem and written as the import goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kept: list[RowProblem] = []
        self._file: IO[str] | None = None
        self._writer: Any = None

    def add(self, row: int, problems: Sequence[tuple[str, str]]) -> None:
        if self._writer is None:
            self._file = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow(("row", "field", "problem"))
        for column, problem in problems:
            # Every cell starts with a digit, a known header name, "(row)" or our own words;
            # values from the file appear only quoted inside them (cells.show), so no cell
            # starts with = + - @ and a spreadsheet cannot take it for a formula.
            self._writer.writerow((row, column, problem))
            if len(self.kept) < KEEP_PROBLEMS:
                self.kept.append(RowProblem(row, column, problem))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
