"""A plain batch checked in one compiled pass stores exactly what the per-event path stores."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.stores.events.batch import columns_to_arrow, to_arrow
from clarion.stores.events.schema import EVENTS
from clarion.tracking.enrich import classify_user_agent
from clarion.tracking.enrichment import enrich_with
from clarion.tracking.intake import Rejected, to_row
from clarion.tracking.plain_batch import decode_plain

RECEIVED = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
AGENT = classify_user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)")

plain_texts = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(["anon-1", "ct_42", "é✓", "<script>alert(1)</script>", "'; DROP TABLE x"]),
    st.text(max_size=12),
)
odd_texts = st.one_of(
    plain_texts, st.just("a\x00b"), st.text(min_size=129, max_size=130), st.integers()
)
timestamps = st.one_of(
    st.sampled_from(
        [
            "2027-03-01T09:29:00Z",
            "2027-03-01T09:29:00.123456Z",
            "2027-03-01T09:29:00.1234567Z",
            "2027-03-01T10:29:00+01:00",
            "2027-03-01 09:29:00+00:00",
            "2027-03-01T09:29:00",  # no zone
            "2027-03-01T09:40:00Z",  # beyond the 5 minutes of tolerance: clamped
            "1999-12-31T23:59:59Z",
            "2027-02-30T09:00:00Z",
        ]
    ),
    st.integers(min_value=0, max_value=10**13),
    st.none(),
)
urls = st.sampled_from(
    [
        "https://shop.example/p?utm_source=news&utm_medium=email",
        "https://shop.example/",
        "https://shop.example/?utm_campaign=spring&utm_term=shoes",
    ]
)
referrers = st.sampled_from(["https://www.google.com/", "https://t.co/x", "", "not a url"])


plain_timestamps = st.sampled_from(
    [
        "2027-03-01T09:29:00Z",
        "2027-03-01T09:29:00.123456Z",
        "2027-03-01T10:29:00+01:00",
        "2027-03-01 09:29:00+00:00",
        "2027-03-01T09:34:59Z",  # within the 5 minutes of tolerance
    ]
)
properties = st.one_of(
    st.none(),
    st.just({"plan": "pro", "seats": 3}),
    st.just({"big": 10**30, "text": "é", "nested": {"a": [1, 2.5, None, True]}}),
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5))),
)
mostly_plain = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["page_view", "sign up", "signup"]),
        "ts": plain_timestamps,
        "anonymous_id": st.sampled_from(["anon-1", "anon-2", ""]),
    },
    optional={
        "event_id": st.one_of(st.sampled_from(["e-1", "e-2", "é✓"]), plain_texts),
        "contact_id": plain_texts,
        "url": st.one_of(urls, plain_texts),
        "referrer": st.one_of(referrers, plain_texts),
        "utm_medium": plain_texts,
        "channel": plain_texts,
        "revenue": st.one_of(st.none(), st.floats(0, 1e6), st.integers(0, 10**6)),
        "currency": st.one_of(st.none(), st.just("EUR")),
        "properties": properties,
    },
)
odd = st.fixed_dictionaries(
    {"type": st.sampled_from(["page_view", "sign up", "", "9lives"]), "ts": timestamps},
    optional={
        "event_id": odd_texts,
        "contact_id": odd_texts,
        "anonymous_id": odd_texts,
        "url": st.one_of(urls, odd_texts),
        "referrer": st.one_of(referrers, odd_texts),
        "utm_medium": odd_texts,
        "channel": odd_texts,
        "revenue": st.one_of(st.none(), st.floats(0, 1e13), st.integers(-1, 10**13), st.just(True)),
        "currency": st.one_of(st.none(), st.sampled_from(["EUR", "XXX", "eur"]), st.just(1)),
        "properties": st.one_of(properties, st.just([1]), st.just("plain")),
    },
)
anything = st.one_of(
    odd,
    st.fixed_dictionaries({"type": st.just("lifecycle_change"), "ts": plain_timestamps}),
    st.fixed_dictionaries(
        {"type": st.just("page_view"), "ts": plain_timestamps, "email": st.just("jo@example.com")}
    ),
    st.sampled_from([None, 3, "event", {"type": "page_view", "ts": "x", "colour": "red"}]),
)
batches = st.one_of(
    st.lists(mostly_plain, min_size=1, max_size=6),
    st.lists(st.one_of(mostly_plain, mostly_plain, mostly_plain, anything), min_size=1, max_size=6),
)


def id_source() -> tuple[Any, list[str]]:
    counter, drawn = itertools.count(), []

    def new_id() -> str:
        drawn.append(f"evt_{next(counter)}")
        return drawn[-1]

    return new_id, drawn


def per_event_path(body: bytes) -> tuple[pa.Table | None, list[str]]:
    """What the per-event path stores for the body, or None if it rejects any event."""
    new_id, drawn = id_source()
    rows = []
    for event in orjson.loads(body)["batch"]:
        try:
            row = to_row(event, workspace_id="ws_1", received_at=RECEIVED, new_id=new_id)
        except Rejected:
            return None, drawn
        rows.append(enrich_with(row, AGENT))
    return to_arrow(EVENTS, rows, RECEIVED), drawn


def plain_path(body: bytes) -> tuple[pa.Table | None, list[str]]:
    new_id, drawn = id_source()
    plain = decode_plain(body)
    if plain is None:
        return None, drawn
    columns = plain.check(workspace_id="ws_1", received_at=RECEIVED, new_id=new_id, agent=AGENT)
    if columns is None:
        return None, drawn
    assert len(columns) == len(orjson.loads(body)["batch"])
    return to_arrow(EVENTS, columns_to_arrow(EVENTS, columns.columns), RECEIVED), drawn


@settings(max_examples=1500, deadline=None)
@given(batches)
def test_a_plain_batch_stores_what_the_per_event_path_stores(batch: list[Any]) -> None:
    body = json.dumps({"batch": batch}).encode()
    plain, plain_ids = plain_path(body)
    if plain is None:
        return  # not plain: the per-event path decides, and it alone draws ids
    assert plain_ids != [] or all(isinstance(e.get("event_id"), str) for e in batch)
    expected, expected_ids = per_event_path(body)
    assert expected is not None, "the compiled pass kept a batch the per-event path rejects"
    assert plain.to_pylist() == expected.to_pylist()
    assert plain_ids == expected_ids


@settings(max_examples=300, deadline=None)
@given(st.lists(mostly_plain, min_size=1, max_size=6))
def test_every_batch_the_per_event_path_keeps_whole_and_plain_is_kept_by_the_compiled_pass(
    batch: list[Any],
) -> None:
    body = json.dumps({"batch": batch}).encode()
    expected, _ = per_event_path(body)
    fast, _ = plain_path(body)
    clamped = expected is not None and any(
        "clarion_ts_clamped_from" in (p or "") for p in expected.column("properties").to_pylist()
    )
    if expected is not None and not clamped:
        assert fast is not None


def test_page_views_from_a_web_page_take_the_compiled_pass() -> None:
    body = orjson.dumps(
        {
            "batch": [
                {
                    "type": "page_view",
                    "ts": "2027-03-01T09:29:00.250Z",
                    "anonymous_id": "anon-1",
                    "url": "https://shop.example/p?utm_source=news&utm_medium=email",
                    "referrer": "https://www.google.com/",
                },
                {
                    "event_id": "e-2",
                    "type": "signup",
                    "ts": "2027-03-01T10:29:00+01:00",
                    "contact_id": "ct_42",
                    "properties": {"plan": "pro"},
                },
            ],
            "write_key": "wk_123",
        }
    )
    table, ids = plain_path(body)
    assert table is not None and ids == ["evt_0"]
    rows = table.to_pylist()
    assert rows[0]["utm_source"] == "news" and rows[0]["referrer_kind"] == "email"
    assert rows[0]["ts"] == datetime(2027, 3, 1, 9, 29, 0, 250_000, tzinfo=UTC)
    assert rows[1]["properties"] == '{"plan":"pro"}' and rows[1]["event_id"] == "e-2"
    assert decode_plain(body).write_key == "wk_123"  # type: ignore[union-attr]


def test_anything_unusual_is_left_to_the_per_event_path() -> None:
    unusual = [
        b'{"batch": [{"type": "page_view", "ts": "2027-03-01T09:29:00Z", "email": "j@x.io"}]}',
        b'{"batch": [{"type": "page_view", "ts": 1803000000000, "anonymous_id": "a"}]}',
        b'{"batch": [{"type": "page_view", "ts": "2027-03-01T09:29:00Z", "colour": "red"}]}',
        b'{"batch": [{"type": "page_view", "ts": "2027-03-01T09:29:00Z", "anonymous_id": 7}]}',
        b'{"batch": [{"type": "page_view", "ts": "2027-03-01T09:29:00Z",'
        b' "anonymous_id": "\\ud800"}]}',
        b'{"batch": [{"type": "page_view", "ts": "2027-03-01T09:29:00Z"',
        b'{"batch": {"type": "page_view"}}',
        b"[]",
        b"\xef\xbb\xbf{}",
        orjson.dumps({"batch": [{"type": "page_view", "ts": "2027-03-01T09:29:00Z"}] * 501}),
    ]
    for body in unusual:
        assert plain_path(body)[0] is None, body[:80]


def test_integers_beyond_64_bits_in_properties_are_stored_as_the_per_event_path_stores_them() -> (
    None
):
    body = (
        b'{"batch": [{"type": "page_view", "ts": "2027-03-01T09:29:00Z", "anonymous_id": "a",'
        b' "properties": {"n": 123456789012345678901234567890, "k": 1, "k": 2}}]}'
    )
    fast, _ = plain_path(body)
    slow, _ = per_event_path(body)
    assert fast is not None and slow is not None
    assert fast.to_pylist() == slow.to_pylist()
