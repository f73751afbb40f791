"""Intake's one-pass check of plain events agrees with the field-by-field checks, always."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.tracking.intake import LIMITS, Rejected, _checked_row, to_row

RECEIVED = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)

texts = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(["anon-1", "ct_42", "https://shop.example/?utm_source=x", "a\x00b", "é✓"]),
    st.text(max_size=20),
    st.text(min_size=129, max_size=130),
    st.integers(),
)
timestamps = st.one_of(
    st.sampled_from(
        [
            "2027-03-01T09:29:00Z",
            "2027-03-01T09:29:00z",
            "2027-03-01T10:29:00+01:00",
            "2027-03-01T09:29:00",
            "2027-03-01T09:40:00Z",  # beyond the 5 minutes of tolerance: clamped
            "1999-12-31T23:59:59Z",
            "yesterday",
        ]
    ),
    st.integers(min_value=-(10**16), max_value=10**16),
    st.floats(),
    st.booleans(),
    st.none(),
)
fields = {
    "event_id": texts,
    "type": st.one_of(st.sampled_from(["page_view", "sign up", "", "9lives", "x" * 65]), texts),
    "ts": timestamps,
    "contact_id": texts,
    "anonymous_id": texts,
    "email": st.one_of(st.none(), st.sampled_from(["jo@example.com", "not-an-email"]), texts),
    "url": texts,
    "referrer": texts,
    "utm_source": texts,
    "channel": texts,
    "revenue": st.one_of(st.none(), st.floats(), st.integers(), st.just("12")),
    "currency": st.one_of(st.none(), st.sampled_from(["EUR", "XXX", "eur"])),
    "properties": st.one_of(
        st.none(), st.just({"plan": "pro"}), st.just({"x": float("nan")}), st.just([1]), texts
    ),
    "colour": texts,  # not a field of an event
}
events = st.one_of(
    st.fixed_dictionaries({}, optional=fields),
    st.fixed_dictionaries(
        {"type": st.just("page_view"), "ts": st.just("2027-03-01T09:29:00Z")},
        optional={k: v for k, v in fields.items() if k not in ("type", "ts")},
    ),
    st.sampled_from([None, [], "event", 3]),
)


def outcome(check: Any, event: Any) -> tuple[Any, list[str]]:
    counter = itertools.count()
    drawn: list[str] = []

    def new_id() -> str:
        drawn.append(f"evt_{next(counter)}")
        return drawn[-1]

    try:
        row = check(event, workspace_id="ws_1", received_at=RECEIVED, new_id=new_id)
    except Rejected as exc:
        return ("rejected", exc.field, exc.problem), drawn
    return row, drawn


@settings(max_examples=1500, deadline=None)
@given(events)
def test_the_one_pass_check_agrees_with_the_field_by_field_checks(event: Any) -> None:
    assert outcome(to_row, event) == outcome(_checked_row, event)


def test_a_plain_event_becomes_its_row_in_one_pass() -> None:
    event = {
        "type": "page_view",
        "ts": "2027-03-01T10:29:00+01:00",
        "anonymous_id": "anon-1",
        "url": "https://shop.example/",
        "referrer": "",
    }

    row, drawn = outcome(to_row, event)

    assert drawn == ["evt_0"]
    assert row["event_id"] == "evt_0"
    assert row["ts"] == datetime(2027, 3, 1, 9, 29, tzinfo=UTC)
    assert row["referrer"] is None  # an empty string is no referrer
    assert row["url"] == "https://shop.example/"


def test_a_wrong_event_is_explained_by_the_first_field_in_the_fixed_order() -> None:
    event = {
        "type": "page_view",
        "ts": "2027-03-01T09:29:00Z",
        "anonymous_id": "a" * (LIMITS["anonymous_id"] + 1),
        "contact_id": 42,
    }

    result, drawn = outcome(to_row, event)

    # contact_id comes before anonymous_id in the field-by-field order, whatever the posting.
    assert result == ("rejected", "contact_id", "expected a string")
    assert drawn == ["evt_0"]  # the careful path draws the id before the text checks, as ever
