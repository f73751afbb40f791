"""One record of a spend file → an ``ad_spend`` row, or the problems that keep it out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any, Final, cast

from clarion.core.errors import FieldProblem, InvalidInput
from clarion.tracking.spend import cells
from clarion.tracking.spend.formats import Field, HeaderMatch
from clarion.tracking.spend.reader import Record

WHOLE_ROW: Final = "(row)"  # the "field" of a problem with the row as a whole
Problem = tuple[str, str]  # (column header as written, what is wrong)
NO_PROBLEMS: Final[tuple[Problem, ...]] = ()


@dataclass(frozen=True)
class Defaults:
    """What fills a row that leaves a value out: ``--channel`` and ``--currency``."""

    channel: str | None = None
    currency: str | None = None

    @classmethod
    def of(cls, channel: str | None, currency: str | None) -> Defaults:
        """Checked options; InvalidInput naming the option if one is wrong."""
        problems = []
        for name, value, check in (
            ("channel", channel, cells.channel),
            ("currency", currency, cells.currency),
        ):
            if value is not None:
                try:
                    check(value)
                except ValueError as error:
                    problems.append(FieldProblem(name, str(error)))
        if problems:
            raise InvalidInput(f"--{problems[0].path}: {problems[0].problem}", problems)
        return cls(
            channel=cells.channel(channel) if channel is not None else None,
            currency=cells.currency(currency) if currency is not None else None,
        )


# What parse() returns per good row, in this order: the ad_spend columns a file provides.
COLUMNS: Final = (
    "day",
    "campaign_id",
    "channel",
    "ad_set",
    "audience",
    "creative_id",
    "impressions",
    "reach",
    "clicks",
    "cost",  # a Decimal, exact; the importer converts it for the store
    "currency",
    "conversions",
)
_AT: Final = {column: position for position, column in enumerate(COLUMNS)}
_DAY, _CAMPAIGN, _CHANNEL, _COST, _CURRENCY = (
    _AT[c] for c in ("day", "campaign_id", "channel", "cost", "currency")
)
_DAY_CACHE: Final = 4096  # distinct day strings remembered (a file repeats its days a lot)


def _has_problem(problems: Sequence[Problem], column: str) -> bool:
    # One message per cell is enough.
    return any(name == column for name, _ in problems)


def _blank(value: str) -> bool:
    # Exports write "nothing" as "", "--" (Google, often " --"), "-" or "n/a". Checked once per
    # cell, so the common case (a value starting with a digit or letter) is decided at once.
    if value in cells.EMPTY:
        return True
    if value[0] not in _BLANK_STARTS:
        return False
    return len(value) < 8 and value.strip().lower() in cells.EMPTY


_BLANK_STARTS: Final = frozenset(" \t\u00a0-nN")
_MAY_BE_TOTAL: Final = frozenset(" \t\u00a0tT")


class RowParser:
    """Checks records against one file's header; built once per file, then called per row."""

    def __init__(
        self,
        header: HeaderMatch,
        decimal_mark: str,
        defaults: Defaults,
        campaign_ids: Mapping[str, str],
        today: date,
    ) -> None:
        self.header = header
        self.layout = header.layout
        self.columns = header.columns
        self.width = len(header.names)
        self.decimal_mark = decimal_mark
        self.channel = defaults.channel or self.layout.default_channel
        self.currency = header.header_currency or defaults.currency
        self.campaign_ids = campaign_ids
        self.latest = cells.latest_day(today)
        self._days: dict[str, date] = {}
        self._first_data_row = True
        self._require_context()
        # The optional cells' work, decided once: (position, cell index, parser, header).
        self._plan: list[tuple[int, int, Callable[[str], Any], str]] = []
        count = partial(cells.count, decimal_mark=decimal_mark)
        for column, name, parse in (
            ("ad_set", "ad_set", cells.text),
            ("audience", "audience", cells.text),
            ("creative_id", "creative", cells.text),
            ("impressions", "impressions", count),
            ("reach", "reach", count),
            ("clicks", "clicks", count),
            ("conversions", "conversions", partial(cells.rounded_count, decimal_mark=decimal_mark)),
            ("channel", "channel", cells.channel),
        ):
            index = self.columns.get(cast(Field, name))
            if index is not None:
                self._plan.append((_AT[column], index, parse, header.names[index]))

    def name(self, field: Field) -> str:
        """The header of ``field`` as the file writes it (what a person looks for)."""
        index = self.columns.get(field)
        return self.header.names[index] if index is not None else field

    def parse(self, record: Record) -> tuple[list[Any] | None, Sequence[Problem]]:
        """``(values, [])`` for a good record (in ``COLUMNS`` order), ``(None, problems)`` for a
        bad one, ``(None, [])`` for one to skip (blank, or a platform's total or summary row)."""
        if record.problem is not None:
            return None, [(WHOLE_ROW, record.problem)]
        first, self._first_data_row = self._first_data_row, False
        row = record.cells
        if not "".join(row).strip():
            return None, NO_PROBLEMS  # blank
        if (first or row[0][:1] in _MAY_BE_TOTAL) and self._is_total(row, first):
            return None, NO_PROBLEMS
        if len(row) != self.width:
            if len(row) < self.width or any(cell.strip() for cell in row[self.width :]):
                hint = " (an unquoted delimiter inside a value?)" if len(row) > self.width else ""
                return None, [
                    (WHOLE_ROW, f"has {len(row)} cells but the header has {self.width}{hint}")
                ]
            row = row[: self.width]
        problems: list[Problem] = []
        out = self._values(row, problems)
        return (None, problems) if problems else (out, NO_PROBLEMS)

    def _values(self, row: list[str], problems: list[Problem]) -> list[Any]:
        out: list[Any] = [None] * len(COLUMNS)
        for position, index, parse, name in self._plan:
            value = row[index]
            if not _blank(value):
                try:
                    out[position] = parse(value)
                except ValueError as error:
                    problems.append((name, str(error)))
        if out[_CHANNEL] is None:
            out[_CHANNEL] = self.channel  # a layout or option default; a file column wins
            if self.channel is None and not _has_problem(problems, self.name("channel")):
                problems.append((self.name("channel"), "is required (or pass --channel)"))
        currency = out[_CURRENCY] = self._currency(row, problems)
        out[_DAY] = self._day(row, problems)
        if (campaign := self._required(row, "campaign", problems)) is not None:
            try:
                platform = cells.text(campaign)
                if platform is None:
                    problems.append((self.name("campaign"), "is required"))
                else:
                    out[_CAMPAIGN] = self.campaign_ids.get(platform, platform)
            except ValueError as error:
                problems.append((self.name("campaign"), str(error)))
        if (cost := self._required(row, "cost", problems)) is not None:
            try:
                out[_COST] = cells.amount(cost, self.decimal_mark, currency)
            except ValueError as error:
                problems.append((self.name("cost"), str(error)))
        return out

    def _required(self, row: list[str], field: Field, problems: list[Problem]) -> str | None:
        value = row[self.columns[field]]
        if _blank(value):
            problems.append((self.name(field), "is required"))
            return None
        return value

    def _currency(self, row: list[str], problems: list[Problem]) -> str | None:
        index = self.columns.get("currency")
        if index is None or _blank(row[index]):
            if self.currency is None:
                problems.append((self.name("currency"), "is required"))
            return self.currency
        try:
            return cells.currency(row[index])
        except ValueError as error:
            problems.append((self.name("currency"), str(error)))
            return None

    def _day(self, row: list[str], problems: list[Problem]) -> date | None:
        if (value := self._required(row, "date", problems)) is None:
            return None
        try:
            day = self._parse_day(value)
        except ValueError as error:
            problems.append((self.name("date"), str(error)))
            return None
        index = self.columns.get("date_end")
        if index is None or _blank(row[index]):
            return day
        try:
            end = self._parse_day(row[index])
        except ValueError as error:
            problems.append((self.name("date_end"), str(error)))
            return day
        if end != day:
            problems.append(
                (
                    self.name("date_end"),
                    f"the row covers {day} … {end}, not one day: export with a daily "
                    "breakdown (Breakdown → By time → Day)",
                )
            )
        return day

    def _parse_day(self, value: str) -> date:
        parsed = self._days.get(value)
        if parsed is None:
            parsed = cells.day(value, latest=self.latest)
            if len(self._days) >= _DAY_CACHE:
                self._days.clear()
            self._days[value] = parsed
        return parsed

    def _is_total(self, row: list[str], first: bool) -> bool:
        # Google Ads ends a report with "Total: Account", "Total: Campaigns"... rows; Meta can
        # put a summary row (no campaign name) right under the header. A total row never has
        # a valid day of its own, which keeps a campaign called "Total Recall" importable.
        if self.layout.skip_summary_row and first:
            campaign = self.columns["campaign"]
            if campaign < len(row) and not row[campaign].strip():
                return True
        if not row[0].strip().lower().startswith("total"):
            return False
        index = self.columns["date"]
        try:
            cells.day(row[index] if index < len(row) else "", latest=self.latest)
        except ValueError:
            return True
        return False

    def _require_context(self) -> None:
        # Channel and currency may come from a column, the header or an option; a file that
        # has none of them for every row is refused whole, before anything is read.
        problems = []
        if "channel" not in self.columns and self.channel is None:
            problems.append(
                FieldProblem("channel", "the file has no channel column: add one or pass --channel")
            )
        if "currency" not in self.columns and self.currency is None:
            names = " or ".join(f"'{n}'" for n in self.layout.accepted("currency"))
            problems.append(
                FieldProblem(
                    "currency",
                    f"the file has no currency column ({names}): add one or pass --currency",
                )
            )
        if problems:
            raise InvalidInput(
                f"{self.layout.title}: {problems[0].problem}", problems, source=self.layout.name
            )
