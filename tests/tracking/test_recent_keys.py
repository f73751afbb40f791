"""Duplicate checks answered from the writer's memory agree with the store, restarts included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.stores.events import EventStore
from clarion.stores.events.recent import RecentKeys
from clarion.tracking.commit import CLAMPED_LOOKBACK, Outcome, Submission, commit

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
KEY_INDEX = ("events", ("workspace_id", "event_id"), "ts")


def event(event_id: str, seconds: float, workspace: str = "ws_1") -> dict[str, Any]:
    at = T0 + timedelta(seconds=seconds)
    return {
        "event_id": event_id,
        "workspace_id": workspace,
        "type": "page_view",
        "ts": at,
        "received_at": at,
        "anonymous_id": "anon-1",
    }


def open_store(path: Path | None = None) -> EventStore:
    store = EventStore.open(f"duckdb://{path}" if path else "duckdb://:memory:")
    store.create_schema()
    return store


def store_only(store: EventStore) -> EventStore:
    """A store whose writer remembers nothing: every duplicate check searches the table."""
    store._backend._recent[KEY_INDEX] = RecentKeys(floor=2**62)  # type: ignore[union-attr]
    return store


def stored_ids(store: EventStore) -> list[tuple[str, str]]:
    table = store.table("events").select("workspace_id", "event_id").to_pyarrow()
    return sorted(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))


def test_a_replayed_batch_is_found_in_memory_without_asking_the_store() -> None:
    with open_store() as store:
        batch = [event(f"e{i}", i) for i in range(3)]

        first = commit(store, [Submission(batch)])
        again = commit(store, [Submission(batch)])

        assert first == [Outcome(accepted=3, duplicates=0)]
        assert again == [Outcome(accepted=0, duplicates=3)]
        assert len(store._backend._recent[KEY_INDEX]) == 3  # type: ignore[union-attr]
        assert stored_ids(store) == [("ws_1", "e0"), ("ws_1", "e1"), ("ws_1", "e2")]


def test_after_a_restart_the_store_itself_is_asked(tmp_path: Path) -> None:
    path = tmp_path / "events.duckdb"
    batch = [event("e1", 0), event("e2", 1)]
    with open_store(path) as store:
        assert commit(store, [Submission(batch)]) == [Outcome(2, 0)]

    with open_store(path) as reopened:
        # Nothing in memory, and the window reaches rows stored before: the store answers.
        assert commit(reopened, [Submission(batch)]) == [Outcome(0, 2)]
        # Later events lie past everything stored before the restart: memory answers.
        later = [event("e3", 60)]
        assert commit(reopened, [Submission(later)]) == [Outcome(1, 0)]
        assert commit(reopened, [Submission(later)]) == [Outcome(0, 1)]
        assert len(stored_ids(reopened)) == 3


def test_events_appended_by_other_writers_of_the_process_are_remembered_too() -> None:
    with open_store() as store:
        commit(store, [Submission([event("first", 0)])])  # the memory exists from here on
        store.append("events", [event("exposure-1", 5)])  # e.g. an experiment's exposures

        assert commit(store, [Submission([event("exposure-1", 5)])]) == [Outcome(0, 1)]


def test_a_forgotten_key_is_looked_for_in_the_store() -> None:
    with open_store() as store:
        commit(store, [Submission([event("e0", 0)])])
        store._backend._recent[KEY_INDEX].capacity = 2  # type: ignore[union-attr]
        commit(store, [Submission([event("e1", 1), event("e2", 2), event("e3", 3)])])

        index = store._backend._recent[KEY_INDEX]  # type: ignore[union-attr]
        assert len(index) == 2
        assert not index.covers(int((T0 + timedelta(seconds=1)).timestamp() * 1e6))
        assert commit(store, [Submission([event("e0", 0), event("e1", 1)])]) == [Outcome(0, 2)]


def test_a_failed_write_hands_its_window_back_to_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with open_store() as store:
        commit(store, [Submission([event("e0", 0)])])
        backend = store._backend
        index = backend._recent[KEY_INDEX]  # type: ignore[union-attr]

        def disk_full(*args: Any) -> None:
            raise OSError("No space left on device")

        monkeypatch.setattr(backend, "_insert", disk_full)
        with pytest.raises(OSError, match="No space"):
            commit(store, [Submission([event("e1", 10)])])

        # Nobody knows whether e1 landed: a retry around its time asks the store.
        assert index.floor == int((T0 + timedelta(seconds=10)).timestamp() * 1_000_000)
        monkeypatch.undo()
        assert commit(store, [Submission([event("e1", 10)])]) == [Outcome(1, 0)]


def test_a_full_memory_forgets_the_oldest_keys_first_and_raises_its_floor_past_them() -> None:
    index = RecentKeys(floor=None, capacity=4)
    index.add(["a", "b"], [10, 11])
    index.add(["c", "d", "e"], [20, 21, 22])  # one over: "a" goes, and only "a"

    assert len(index) == 4
    assert index.stored(["a", "b", "e"], 0, 100) == [False, True, True]
    assert index.floor == 11  # "a" went with its list's time: windows up to 11 need the store

    index.add(["f", "g", "h"], [30, 31, 32])  # "b", then "c" and "d" of the next list
    assert len(index) == 4
    assert index.stored(["e", "f", "g", "h"], 0, 100) == [True, True, True, True]
    assert index.floor == 22
    assert not index.covers(22) and index.covers(23)


def test_none_of_the_keys_known_is_told_apart_from_known_out_of_the_window() -> None:
    index = RecentKeys(floor=None)
    index.add(["a"], [10])

    assert index.stored(["x", "y"], 0, 100) is None  # nothing to look up when adding them
    assert index.stored(["a", "x"], 50, 100) == [False, False]  # known, at another time


def test_a_key_remembered_again_later_is_forgotten_with_its_later_time() -> None:
    index = RecentKeys(floor=None, capacity=2)
    index.add(["a"], [10])
    index.add(["a", "b"], [40, 20])  # a table without a unique key: "a" again, later
    assert index.floor == 10  # the earlier time of "a" is no longer answered for

    index.add(["c"], [30])  # "a" goes first (it was remembered first), at its time 40
    assert index.floor == 40
    assert index.stored(["b", "c"], 0, 100) == [True, True]


# A history of commits: each is a list of (event id, second) with a lookback; some are
# plain appends by another writer. Small id and time ranges make repeats, near and far.
commits = st.lists(
    st.tuples(
        st.lists(
            st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 5)),
            min_size=1,
            max_size=4,
            unique_by=lambda x: x[0],
        ),
        st.sampled_from(["commit", "clamped", "append"]),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(commits, st.sampled_from([1_000_000, 3, 1]))
def test_memory_and_store_give_the_same_outcomes_and_rows(
    history: list[Any], capacity: int
) -> None:
    # With a small memory, keys are forgotten as the history goes: the floor sends those
    # windows to the store, which must then give the same answers.
    with open_store() as remembered, store_only(open_store()) as searched:
        remembered._backend._recent[KEY_INDEX] = RecentKeys(None, capacity)  # type: ignore[union-attr]
        for rows, kind in history:
            batch = [event(i, s) for i, s in rows]
            results = []
            for store in (remembered, searched):
                if kind == "append":
                    results.append(store.append("events", batch))
                else:
                    lookback = CLAMPED_LOOKBACK if kind == "clamped" else timedelta(seconds=1)
                    results.append(commit(store, [Submission(batch, lookback)]))
            assert results[0] == results[1]
        assert stored_ids(remembered) == stored_ids(searched)
