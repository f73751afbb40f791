"""Event store on real DuckDB files: schema, batched appends, validation, locking, read-only."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.core.clock import SimulatedClock
from clarion.core.errors import ClarionError, InvalidInput, StoreBusy
from clarion.stores.events import TABLES, EventStore

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def event(n: int = 0, **fields: Any) -> dict[str, Any]:
    """A valid event row; keyword arguments override or add columns."""
    row: dict[str, Any] = {
        "event_id": f"evt_{n}",
        "workspace_id": "ws_1",
        "type": "page_view",
        "ts": T0 + timedelta(minutes=n),
    }
    row.update(fields)
    return row


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"duckdb://{tmp_path / 'events.duckdb'}"


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0 + timedelta(hours=1))


@pytest.fixture
def store(url: str, clock: SimulatedClock) -> Iterator[EventStore]:
    with EventStore.open(url, clock=clock) as opened:
        opened.create_schema()
        yield opened


def count(store: EventStore, table: str = "events") -> int:
    return int(store.table(table).count().execute())


# --- schema -------------------------------------------------------------------------------


def test_create_schema_is_idempotent_and_creates_every_table(store: EventStore) -> None:
    store.create_schema()
    store.create_schema()

    for name, spec in TABLES.items():
        assert store.table(name).columns == tuple(spec.types), name
        assert count(store, name) == 0


def test_every_table_is_scoped_by_workspace() -> None:
    for spec in TABLES.values():
        assert "workspace_id" in spec.required, spec.name


def test_create_schema_refuses_a_table_with_other_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as raw:
        raw.execute("CREATE TABLE events (event_id VARCHAR, payload VARCHAR)")

    with EventStore.open(f"duckdb://{path}") as store, pytest.raises(ClarionError) as raised:
        store.create_schema()

    assert raised.value.code == "store_schema_mismatch"
    assert "ts" in raised.value.details["missing"]


# --- append and query ---------------------------------------------------------------------


def test_appended_events_come_back_through_ibis(store: EventStore) -> None:
    rows = [event(n, type="click" if n % 3 == 0 else "page_view") for n in range(9)]

    assert store.append("events", rows) == 9

    events = store.table("events")
    by_type = events.group_by("type").aggregate(n=events.count()).order_by("type").to_pyarrow()
    assert by_type.to_pylist() == [{"type": "click", "n": 3}, {"type": "page_view", "n": 6}]


def test_a_conversion_keeps_its_revenue_properties_and_utm(store: EventStore) -> None:
    store.append(
        "events",
        [
            event(
                type="conversion",
                contact_id="ct_1",
                campaign_id="cmp_spring",
                revenue=Decimal("49.90"),
                currency="EUR",
                utm_source="linkedin",
                properties={"plan": "pro", "seats": 3},
                ts=datetime(2027, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=2))),
            )
        ],
    )

    (stored,) = store.table("events").to_pyarrow().to_pylist()
    assert stored["revenue"] == pytest.approx(49.90)
    assert stored["utm_source"] == "linkedin"
    assert json.loads(stored["properties"]) == {"plan": "pro", "seats": 3}
    assert stored["ts"] == datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # stored as UTC


def test_received_at_is_stamped_from_the_clock_when_absent(
    store: EventStore, clock: SimulatedClock
) -> None:
    given_time = T0 + timedelta(minutes=5)
    store.append("events", [event(1), event(2, received_at=given_time)])

    stamps = store.table("events").order_by("event_id").received_at.to_pyarrow().to_pylist()
    assert stamps == [clock.now(), given_time]


def test_an_arrow_table_is_appended_as_is(store: EventStore) -> None:
    batch = pa.table(
        {
            "workspace_id": ["ws_1", "ws_1"],
            "anonymous_id": ["anon_1", "anon_2"],
            "contact_id": ["ct_1", "ct_1"],
            "source": ["identify", "form_submit"],
        }
    )

    assert store.append("identities", batch) == 2
    assert count(store, "identities") == 2


def test_an_arrow_batch_of_events_gets_nulls_and_stamps_for_missing_columns(
    store: EventStore, clock: SimulatedClock
) -> None:
    batch = pa.table(
        {
            "event_id": ["evt_1"],
            "workspace_id": ["ws_1"],
            "type": ["page_view"],
            "ts": pa.array([T0], type=pa.timestamp("us", tz="Europe/Paris")),
        }
    )

    store.append("events", batch)

    (stored,) = store.table("events").to_pyarrow().to_pylist()
    assert (stored["ts"], stored["received_at"]) == (T0, clock.now())
    assert stored["contact_id"] is None and stored["properties"] is None


def test_an_arrow_batch_with_naive_timestamps_is_refused(store: EventStore) -> None:
    batch = pa.table(
        {
            "event_id": ["e"],
            "workspace_id": ["w"],
            "type": ["t"],
            "ts": pa.array([T0.replace(tzinfo=None)]),
        }
    )

    with pytest.raises(InvalidInput, match="timezone-aware"):
        store.append("events", batch)


def test_ad_spend_takes_days_and_decimal_costs(store: EventStore) -> None:
    store.append(
        "ad_spend",
        [
            {
                "workspace_id": "ws_1",
                "day": date(2027, 3, 1),
                "channel": "social",
                "source": "simulated_ads",
                "impressions": 12_000,
                "clicks": 240,
                "cost": Decimal("180.50"),
                "currency": "EUR",
            }
        ],
    )

    spend = store.table("ad_spend")
    assert spend.cost.sum().execute() == pytest.approx(180.50)


def test_an_empty_batch_writes_nothing(store: EventStore) -> None:
    assert store.append("events", []) == 0
    assert count(store) == 0


HOSTILE = [
    "'; DROP TABLE events; --",
    'x" OR "1"="1',
    "<script>alert('owned')</script>",
    "Robert'); DELETE FROM contacts WHERE ('1'='1",
    "€ ≤ 40 — ünïcödé 🚀",
    "line\nbreak\ttab\\backslash",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_round_trip_as_plain_data(store: EventStore, text: str) -> None:
    store.append("events", [event(event_id=text, type=text, url=text, properties={"q": text})])

    (stored,) = store.table("events").to_pyarrow().to_pylist()
    assert (stored["event_id"], stored["type"], stored["url"]) == (text, text, text)
    assert json.loads(stored["properties"]) == {"q": text}
    assert count(store) == 1  # and the table is still there


@settings(max_examples=40, deadline=None)
@given(
    text=st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))
)
def test_any_text_round_trips(text: str) -> None:
    with EventStore.open("duckdb://:memory:") as store:
        store.create_schema()
        store.append("events", [event(url=text, properties={"text": text})])
        (stored,) = store.table("events").to_pyarrow().to_pylist()
    assert stored["url"] == text
    assert json.loads(stored["properties"]) == {"text": text}


# --- validation: a bad row rejects the whole batch ----------------------------------------

INVALID_ROWS = [
    # (the bad row, the reported path, words in the problem)
    (event(colour="red"), "rows[1].colour", "unknown column"),
    ({k: v for k, v in event().items() if k != "ts"}, "rows[1].ts", "required"),
    (event(type=None), "rows[1].type", "required"),
    (event(ts=datetime(2027, 3, 1, 9, 0)), "rows[1].ts", "timezone-aware"),
    (event(ts="2027-03-01T09:00:00Z"), "rows[1].ts", "timezone-aware datetime"),
    (event(revenue="a lot"), "rows[1].revenue", "expected a number"),
    (event(contact_id=42), "rows[1].contact_id", "expected a string"),
    (event(properties="{not json"), "rows[1].properties", "valid JSON"),
    (event(properties={"when": object()}), "rows[1].properties", "JSON"),
    (["not", "a", "mapping"], "rows[1].*", "expected a mapping"),
]


@pytest.mark.parametrize(("bad_row", "path", "words"), INVALID_ROWS)
def test_one_invalid_row_rejects_the_batch_and_names_it(
    store: EventStore, bad_row: Any, path: str, words: str
) -> None:
    batch = [event(0), bad_row, event(2)]

    with pytest.raises(InvalidInput) as raised:
        store.append("events", batch)

    problem = raised.value.problems[0]
    assert (problem.path, words in problem.problem) == (path, True), problem
    assert path in str(raised.value)
    assert count(store) == 0  # nothing written, not even the valid rows


def test_every_problem_in_a_batch_is_reported(store: EventStore) -> None:
    with pytest.raises(InvalidInput) as raised:
        store.append("events", [event(0, colour="red"), event(1, ts=None)])

    assert [p.path for p in raised.value.problems] == ["rows[0].colour", "rows[1].ts"]


def test_a_day_column_refuses_a_datetime(store: EventStore) -> None:
    row = {"workspace_id": "ws_1", "day": T0, "channel": "social", "source": "csv"}

    with pytest.raises(InvalidInput, match=r"rows\[0\]\.day"):
        store.append("ad_spend", [row])


def test_an_arrow_batch_with_a_null_required_value_is_refused(store: EventStore) -> None:
    batch = pa.table(
        {
            "workspace_id": ["ws_1", None],
            "anonymous_id": ["anon_1", "anon_2"],
            "contact_id": ["ct_1", "ct_1"],
            "source": ["identify", "identify"],
        }
    )

    with pytest.raises(InvalidInput, match=r"rows\[1\]\.workspace_id"):
        store.append("identities", batch)
    assert count(store, "identities") == 0


def test_an_unknown_table_is_refused(store: EventStore) -> None:
    with pytest.raises(InvalidInput, match="unknown event store table 'clicks'"):
        store.append("clicks", [event()])
    with pytest.raises(InvalidInput):
        store.table("clicks")


# --- files, locks and modes ---------------------------------------------------------------


def test_appended_rows_survive_a_reopen(url: str) -> None:
    with EventStore.open(url) as store:
        store.create_schema()
        store.append("events", [event(n) for n in range(3)])

    with EventStore.open(url) as store:
        store.create_schema()  # idempotent on an existing file too
        assert count(store) == 3


HOLD_FILE = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read_only")
print("holding", flush=True)
sys.stdin.read()  # hold the file until the test closes our stdin
"""


@pytest.fixture
def hold(tmp_path: Path) -> Iterator[Any]:
    """Start a second process that opens a DuckDB file and keeps it open."""
    holders: list[subprocess.Popen[str]] = []

    def start(path: Path, mode: str = "read_write") -> subprocess.Popen[str]:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_FILE, str(path), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        holders.append(holder)
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        return holder

    yield start
    for holder in holders:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)


def test_a_file_held_by_another_process_raises_store_busy_at_once(
    tmp_path: Path, hold: Any
) -> None:
    path = tmp_path / "events.duckdb"
    with EventStore.open(f"duckdb://{path}") as store:
        store.create_schema()
    holder = hold(path)

    started = time.monotonic()
    with pytest.raises(StoreBusy) as raised:
        EventStore.open(f"duckdb://{path}")
    elapsed = time.monotonic() - started

    message = str(raised.value)
    assert elapsed < 5
    assert str(path) in message
    assert f"PID {holder.pid}" in message
    assert "clarion serve" in message
    assert raised.value.details["pid"] == holder.pid


def test_read_only_opens_alongside_other_readers_and_refuses_writes(
    url: str, tmp_path: Path, hold: Any
) -> None:
    with EventStore.open(url) as store:
        store.create_schema()
        store.append("events", [event(1), event(2)])
    hold(tmp_path / "events.duckdb", "read_only")  # another reader, e.g. a report job

    with EventStore.open(url, read_only=True) as reader:
        assert count(reader) == 2
        with pytest.raises(ClarionError, match="read-only") as raised:
            reader.append("events", [event(3)])
    assert raised.value.code == "store_read_only"


def test_opening_a_missing_file_read_only_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ClarionError, match="does not exist") as raised:
        EventStore.open(f"duckdb://{tmp_path / 'missing.duckdb'}", read_only=True)

    assert raised.value.code == "store_unavailable"


def test_a_closed_store_says_so(store: EventStore) -> None:
    store.close()
    store.close()  # twice is fine

    with pytest.raises(ClarionError, match="closed"):
        store.table("events")


@pytest.mark.parametrize(
    "bad_url",
    ["sqlite:///tmp/events.db", "events.duckdb", "duckdb://relative/events.duckdb"],
)
def test_unsupported_urls_are_refused(bad_url: str) -> None:
    with pytest.raises(InvalidInput, match="event store URL"):
        EventStore.open(bad_url)


def test_append_new_skips_keys_already_stored_in_the_window(tmp_path: Path) -> None:
    with EventStore.open(f"duckdb://{tmp_path / 'dedup.duckdb'}") as store:
        store.create_schema()
        now = datetime(2027, 3, 1, 12, tzinfo=UTC)

        def rows(*ids: str) -> list[dict[str, object]]:
            return [
                {"event_id": i, "workspace_id": "ws", "type": "page_view", "ts": now} for i in ids
            ]

        window = {"keys": ("workspace_id", "event_id"), "time_column": "ts"}
        first = store.append_new(
            "events", rows("a", "b"), since=now - timedelta(days=1), until=now, **window
        )
        again = store.append_new(
            "events", rows("b", "c"), since=now - timedelta(days=1), until=now, **window
        )
        assert sorted(first.column("event_id").to_pylist()) == ["a", "b"]
        assert again.column("event_id").to_pylist() == ["c"]
        assert store.table("events").count().execute() == 3
