"""The dashboard's parts alone: the session cookie, the headline verdict, the SVG charts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from clarion.web import charts
from clarion.web.overview import Tile, overall
from clarion.web.session import decode, encode, new_session, session_key

NOW = datetime(2027, 3, 11, 12, tzinfo=UTC)
KEY = session_key("a signing key")


def test_a_session_survives_its_round_trip() -> None:
    session = new_session("key_1", "ws_1", "analyst", NOW)
    back = decode(encode(session, KEY), KEY, NOW + timedelta(hours=1))
    assert back is not None
    assert (back.key_id, back.workspace_id, back.role, back.csrf) == (
        "key_1",
        "ws_1",
        "analyst",
        session.csrf,
    )


def test_a_session_under_another_key_or_expired_or_mangled_is_none() -> None:
    cookie = encode(new_session("key_1", "ws_1", "viewer", NOW), KEY)
    assert decode(cookie, session_key("another key"), NOW) is None
    assert decode(cookie, KEY, NOW + timedelta(hours=12, seconds=1)) is None
    for bad in ("", "abc", "a.b.c", cookie + "x", "." + cookie.split(".")[1], "é.é"):
        assert decode(bad, KEY, NOW) is None


def _tile(tone: str) -> Tile:
    return Tile("m", "m >= 1", "1", None, None, None, "x", "x", tone, "")  # type: ignore[arg-type]


def test_the_headline_is_never_better_than_its_least_certain_target() -> None:
    assert overall([_tile("good"), _tile("good")])[0] == "good"
    assert overall([_tile("good"), _tile("unsure")])[0] == "unsure"
    assert overall([_tile("good"), _tile("none")])[0] == "unsure"
    assert overall([_tile("good"), _tile("unsure"), _tile("bad")])[0] == "bad"
    assert overall([_tile("none")])[0] == "none"
    assert overall([]) == ("none", "No KPI targets in the plan")


def test_a_line_chart_draws_one_line_per_series_and_escapes_names() -> None:
    days = [date(2027, 3, d) for d in range(1, 4)]
    svg = charts.line_chart(
        "Clicks <per day>",
        {"search": [(d, 10.0 * i) for i, d in enumerate(days)], "<b>x</b>": [(days[0], 5.0)]},
        str,
    )
    assert svg.count("<polyline") == 2
    assert "Clicks &lt;per day&gt;" in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    assert "<b>x" not in svg
    assert "2027-03-01" in svg and "2027-03-03" in svg


def test_charts_without_data_say_so() -> None:
    assert "no facts yet" in charts.line_chart("Cost", {}, str)
    assert "nothing to show" in charts.bar_chart("Funnel", [])


def test_a_bar_chart_marks_the_reference() -> None:
    svg = charts.bar_chart("Budget", [charts.Bar("search", 50, "50 of 100", reference=100)])
    assert svg.count("<rect") == 1 and 'class="reference"' in svg
