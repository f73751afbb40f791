"""Contacts import: a file's valid rows upserted in batches, its bad rows into FILE.errors.csv."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Self

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from clarion.audiences import mirroring, normalise
from clarion.audiences.contracts import ImportReport, RowProblem
from clarion.audiences.reader import WHOLE_ROW, ContactFile, Record
from clarion.audiences.records import ConsentInput, parse_fields, parse_pair
from clarion.audiences.tables import contacts
from clarion.audiences.upsert import BatchOutcome, Item, upsert_batch
from clarion.core.clock import Clock
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.core.ids import IdSource
from clarion.core.textfiles import check_writable, errors_path_for
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

BATCH_ROWS: Final = 2_000  # rows per transaction: a few MB of Python objects
PROGRESS_EVERY: Final = 2_000  # rows between progress callbacks
KEEP_PROBLEMS: Final = 5  # problems carried in the report (all of them go to the file)
MAX_SOURCE: Final = 200

Progress = Callable[[int, int], None]  # (rows read, bytes read)


def import_options(
    consents: Sequence[str], default_country: str | None, source: str | None
) -> tuple[list[tuple[str, str]], str | None, str | None]:
    """``--consent``, ``--country`` and ``--source`` checked; InvalidInput naming the option."""
    problems = []
    pairs = []
    for text in consents:
        try:
            pairs.append(parse_pair(text))
        except ValueError as error:
            problems.append(FieldProblem("--consent", str(error)))
    country = None
    if default_country is not None:
        try:
            country = normalise.country(default_country)
        except ValueError as error:
            problems.append(FieldProblem("--country", str(error)))
    if source is not None:
        try:
            source = normalise.text(source, MAX_SOURCE)
        except ValueError as error:
            problems.append(FieldProblem("--source", str(error)))
    if problems:
        raise InvalidInput(f"{problems[0].path}: {problems[0].problem}", problems)
    return pairs, country, source


def import_contacts(
    store: AppStore,
    events: EventStore,
    path: Path,
    *,
    workspace_id: str,
    clock: Clock,
    ids: IdSource,
    mapping: Mapping[str, str] | None = None,
    consents: Sequence[str] = (),
    source: str | None = None,
    default_country: str | None = None,
    batch_size: int = BATCH_ROWS,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Import a CSV or JSONL file of contacts; importing it again changes nothing.

    The file's shape is checked first (InvalidInput, nothing written). Each row is then
    checked on its own: good rows are upserted in batches (matched by external id, then
    email), bad ones are explained in ``FILE.errors.csv``. ``consents`` (``purpose:channel``)
    are granted to every stored row, with the file and row as proof. ``default_country``
    is the country of rows that name none (it also lets national phone numbers be read).
    """
    pairs, country, source = import_options(consents, default_country, source)
    errors_path = errors_path_for(path)
    with ContactFile(path, mapping) as file:
        check_writable(errors_path)
        errors_path.unlink(missing_ok=True)  # a report from an earlier import is stale now
        run = _Run(
            store,
            events,
            file,
            workspace_id=workspace_id,
            clock=clock,
            ids=ids,
            source=source or f"import:{path.name}"[:MAX_SOURCE],
            extra=[ConsentInput(purpose, channel) for purpose, channel in pairs],
            country=country,
        )
        with _ErrorReport(errors_path) as report:
            batch: list[Item] = []
            for seen, record in enumerate(file.records(), start=1):
                item = run.check(record, report)
                if item is not None:
                    batch.append(item)
                    if len(batch) >= batch_size:
                        run.flush(batch, report)
                        batch = []
                if on_progress is not None and seen % PROGRESS_EVERY == 0:
                    on_progress(seen - run.skipped, file.bytes_read)
            run.flush(batch, report)
        store.refresh_statistics(("contacts", "consent_events"))
        if on_progress is not None:
            on_progress(run.read, file.size)
        return ImportReport(
            source=run.source,
            file_format=file.format,
            rows_read=run.read,
            created=run.counts["created"],
            updated=run.counts["updated"],
            unchanged=run.counts["unchanged"],
            merged=run.counts["merged"],
            rejected=run.rejected,
            skipped=run.skipped,
            consents_recorded=run.consents,
            errors_path=errors_path if run.rejected else None,
            columns=dict(file.columns),
            ignored_columns=file.ignored,
            problems=tuple(report.kept),
        )


class _Run:
    """One import's state: checks rows, writes batches, counts."""

    def __init__(
        self,
        store: AppStore,
        events: EventStore,
        file: ContactFile,
        *,
        workspace_id: str,
        clock: Clock,
        ids: IdSource,
        source: str,
        extra: list[ConsentInput],
        country: str | None,
    ) -> None:
        self.store, self.events, self.file = store, events, file
        self.workspace_id, self.clock, self.ids = workspace_id, clock, ids
        self.source, self.extra, self.country = source, extra, country
        # Every contact the import writes gets this time; a match already at it was written
        # by an earlier row of this file (see upsert_batch). So it must be later than any
        # contact's time, even when the clock (a simulated one) has not moved since.
        self.started = clock.now()
        with store.reading() as conn:
            newest = conn.execute(
                select(func.max(contacts.c.updated_at)).where(
                    contacts.c.workspace_id == workspace_id
                )
            ).scalar()
        if newest is not None and newest >= self.started:
            self.started = newest + timedelta(microseconds=1)
        self.stamp: datetime | None = None
        self.counts = {"created": 0, "updated": 0, "unchanged": 0, "merged": 0}
        self.rejected = 0
        self.skipped = 0
        self.consents = 0
        self.proof = f"{file.path.name} row "[: MAX_SOURCE - 12]

    @property
    def read(self) -> int:
        return sum(self.counts.values()) + self.rejected

    def check(self, record: Record, report: _ErrorReport) -> Item | None:
        if record.raw is None and not record.problems:
            self.skipped += 1
            return None
        problems = record.problems
        contact = None
        if record.raw is not None:
            contact, found = parse_fields(
                record.raw, default_country=self.country, now=self.started
            )
            problems = problems + [(self.file.name_of(f), p) for f, p in found]
        if problems or contact is None:
            self.rejected += 1
            report.add(record.row, problems)
            return None
        if self.extra:
            contact.consents.extend(self.extra)
        return Item(record.row, contact)

    def flush(self, batch: list[Item], report: _ErrorReport) -> None:
        if not batch:
            return
        outcome, versions = self._write(batch)
        for action in self.counts:
            self.counts[action] += outcome.count(action)  # type: ignore[arg-type]
        self.consents += outcome.consents
        rows = sorted({p.index for p in outcome.rejected})
        self.rejected += len(rows)
        for problem in outcome.rejected:
            report.add(problem.index, [(self.file.name_of(problem.field), problem.problem)])
        if versions:
            self.stamp = mirroring.next_stamp(
                self.events, self.workspace_id, self.clock, after=self.stamp
            )
            mirroring.append(self.events, versions, self.stamp)

    def _write(self, batch: list[Item]) -> tuple[BatchOutcome, list[dict[str, Any]]]:
        for attempt in (1, 2):
            try:
                with self.store.transaction() as conn:
                    outcome = upsert_batch(
                        conn,
                        self.workspace_id,
                        batch,
                        now=self.started,
                        ids=self.ids,
                        source=self.source,
                        proof_kind="import",
                        proof_ref=self._proof,
                        started=self.started,
                        label="row",
                    )
                return outcome, outcome.mirror
            except IntegrityError:
                # Another writer stored one of these addresses or ids between our read and
                # our write: read again (the rows now match it).
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _proof(self, row: int) -> str:
        return f"{self.proof}{row}"


class _ErrorReport:
    """``FILE.errors.csv`` (row, field, problem), opened at the first problem."""

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
        for field, problem in problems or [(WHOLE_ROW, "rejected")]:
            # Cells start with a digit, a column name from the header or our own words; values
            # from the file appear only quoted inside them (normalise.show), so a spreadsheet
            # does not take a cell for a formula. A header cell is neutralised the same way.
            self._writer.writerow((row, _safe(field), problem))
            if len(self.kept) < KEEP_PROBLEMS:
                self.kept.append(RowProblem(row, field, problem))

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


def _safe(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
