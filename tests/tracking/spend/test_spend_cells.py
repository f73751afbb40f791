"""Cell parsers and header detection: tables of accepted and refused values, and properties."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.tracking.spend import cells
from clarion.tracking.spend.formats import GENERIC, detect, match_header, normalise

LATEST = date(2027, 4, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-03-01", date(2027, 3, 1)),
        ("2027-3-1", date(2027, 3, 1)),
        ("2027/03/01", date(2027, 3, 1)),
        ("20270301", date(2027, 3, 1)),
        ("01.03.2027", date(2027, 3, 1)),
        ("Mar 1, 2027", date(2027, 3, 1)),
        ("March 1, 2027", date(2027, 3, 1)),
        ("Mon, Mar 1, 2027", date(2027, 3, 1)),
        ("1 Mar 2027", date(2027, 3, 1)),
        ("  2027-03-01 ", date(2027, 3, 1)),
        ("Sept 30, 2026", date(2026, 9, 30)),
    ],
)
def test_days_in_the_formats_exports_use(text: str, expected: date) -> None:
    assert cells.day(text, latest=LATEST) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("03/01/2027", "ambiguous"),
        ("2027-02-29", "not a real day"),
        ("Foo 1, 2027", "not a real day"),
        ("2027-03-01T10:00:00", "not a day"),
        ("٢٠٢٧-٠٣-٠١", "not a day"),  # Arabic-Indic digits: int() would take them
        ("2027-04-03", "in the future"),
        ("", "not a day"),
    ],
)
def test_days_that_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        cells.day(text, latest=LATEST)


@pytest.mark.parametrize(
    ("text", "mark", "expected"),
    [
        ("1234", ".", Decimal(1234)),
        ("1,234,567.89", ".", Decimal("1234567.89")),
        ("1.234.567,89", ",", Decimal("1234567.89")),
        ("1 234,5", ",", Decimal("1234.5")),
        ("1\u00a0234,5", ",", Decimal("1234.5")),
        (".5", ".", Decimal("0.5")),
        ("0", ".", Decimal(0)),
    ],
)
def test_numbers_with_grouping_and_decimal_marks(text: str, mark: str, expected: Decimal) -> None:
    assert cells.number(text, mark) == expected


@pytest.mark.parametrize(
    ("text", "mark"),
    [
        ("1,23", "."),
        ("1.2.3", "."),
        ("12.50", ","),
        ("1e5", "."),
        ("inf", "."),
        ("+1", "."),
        ("", "."),
    ],
)
def test_numbers_that_are_refused(text: str, mark: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        cells.number(text, mark)


@given(
    amount=st.decimals(min_value=0, max_value=10**11, places=2, allow_nan=False),
    comma=st.booleans(),
)
def test_a_formatted_amount_reads_back_exactly(amount: Decimal, comma: bool) -> None:
    text = f"{amount:,.2f}"
    if comma:  # the European way: 1.234,56
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    assert cells.amount(text, "," if comma else ".", "EUR") == amount
    assert cells.amount(f"{amount:.2f}", ".", "EUR") == amount  # the fast path agrees


def test_counts_and_amounts() -> None:
    assert cells.count("1,234", ".") == 1234
    assert cells.count("12.0", ".") == 12
    assert cells.rounded_count("2.5", ".") == 2 and cells.rounded_count("3.5", ".") == 4
    assert cells.amount("12.500", ".", "EUR") == Decimal("12.50")
    assert cells.amount("1000", ".", "JPY") == Decimal(1000)
    with pytest.raises(ValueError, match="more than 0 decimals for JPY"):
        cells.amount("1000.5", ".", "JPY")
    with pytest.raises(ValueError, match="implausibly large"):
        cells.amount("1" + "0" * 13, ".", "EUR")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spring", "Spring"),
        ("  Spring  ", "Spring"),
        ("Spring\nLaunch", "Spring Launch"),
        ("Spring\r\n\tLaunch", "Spring Launch"),
        ("", None),
        ("   ", None),
        ("Café – “Frühling” 🚀", "Café – “Frühling” 🚀"),
        ("'; DROP TABLE ad_spend;--", "'; DROP TABLE ad_spend;--"),
    ],
)
def test_text_is_kept_as_written_apart_from_whitespace(text: str, expected: str | None) -> None:
    assert cells.text(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a\x00b", "U+0000"),
        ("a\x1bb", "U+001B"),
        ("a\x9bb", "U+009B"),
        ("a\u202eb", "U+202E"),
        ("a\udcfcb", "not valid UTF-8"),
        ("x" * 201, "at most 200"),
    ],
)
def test_text_that_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        cells.text(text)


def test_channels_and_currencies_are_normalised() -> None:
    assert cells.channel(" Search ") == "search"
    assert cells.currency(" eur ") == "EUR"
    for bad in ("paid search", "", "-x", "a" * 65):
        with pytest.raises(ValueError, match="not a channel name"):
            cells.channel(bad)
    with pytest.raises(ValueError, match="not a currency"):
        cells.currency("EURO")


@pytest.mark.parametrize(
    ("header", "layout"),
    [
        (["date", "campaign", "channel", "cost", "currency"], "generic"),
        (["Date", "Campaign", "Ad_Set", "Cost"], "generic"),
        (["Day", "Campaign", "Ad group", "Impr.", "Cost", "Currency code"], "google_ads"),
        (["Campaign", "Day", "Cost"], "google_ads"),
        (["Reporting starts", "Campaign name", "Amount spent (USD)"], "meta_ads"),
        (["Day", "Campaign name", "Amount spent", "Currency"], "meta_ads"),
        (["\ufeffReporting starts", "Campaign  name ", "Amount Spent (eur)"], "meta_ads"),
    ],
)
def test_the_layout_is_told_from_the_header(header: list[str], layout: str) -> None:
    found = detect(header, "auto")
    assert found is not None and found.layout.name == layout


def test_headers_that_fit_no_layout_or_another_one() -> None:
    assert detect(["name", "email"], "auto") is None
    assert detect(["Day", "Campaign", "Cost"], "meta_ads") is None
    assert detect(["Campaign performance report"], "auto") is None


def test_meta_takes_the_currency_from_the_cost_header() -> None:
    found = detect(["Reporting starts", "Campaign name", "Amount spent (GBP)", "Reach"], "auto")
    assert found is not None
    assert found.header_currency == "GBP"
    assert found.columns["cost"] == 2 and found.columns["reach"] == 3


def test_unknown_columns_are_listed_and_duplicates_noticed() -> None:
    match = match_header(["date", "campaign", "cost", "CTR", "cost", ""], GENERIC)
    assert match.ignored == ("CTR", "cost") and match.duplicated == ("cost",)
    assert normalise("  Ad_Set\u00a0Name ") == "ad set name"
