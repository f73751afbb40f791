"""The relay between intake workers and the store's owner: frames, answers, remote waiters."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from clarion.stores.events import EventStore
from clarion.stores.events.batch import to_arrow
from clarion.stores.events.schema import EVENTS
from clarion.tracking.collector import Collector, RemoteWaiter
from clarion.tracking.commit import CLAMPED_LOOKBACK, DEFAULT_LOOKBACK, Outcome, Submission
from clarion.tracking.relay import (
    LENGTH,
    decode_answers,
    decode_request,
    encode_answers,
    encode_request,
    request_heads,
)

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def events(*event_ids: str) -> pa.RecordBatch:
    rows = [
        {
            "event_id": event_id,
            "workspace_id": "ws_1",
            "type": "page_view",
            "ts": T0,
            "received_at": T0,
            "anonymous_id": "anon-1",
            "url": "<script>alert(1)</script>'; DROP TABLE events; --",
        }
        for event_id in event_ids
    ]
    return to_arrow(EVENTS, rows, T0).combine_chunks().to_batches()[0]


def frame(parts: list[tuple[int, int, int]], batch: pa.RecordBatch) -> bytes:
    """A frame as the worker writes it, without its length prefix (as the owner reads it)."""
    whole = b"".join(encode_request(parts, batch))
    (length,) = LENGTH.unpack_from(whole)
    assert length == len(whole) - LENGTH.size
    return whole[LENGTH.size :]


def test_a_frame_carries_each_requests_rows_keys_and_lookback() -> None:
    data = frame([(7, 2, 0), (8, 1, 1)], events("e1", "e2", "e3"))

    first, second = decode_request(data)

    assert (first.request_id, len(first.rows), first.lookback) == (7, 2, DEFAULT_LOOKBACK)
    assert first.rows.keys == [("ws_1", "e1"), ("ws_1", "e2")]
    assert (second.request_id, second.rows.keys, second.lookback) == (
        8,
        [("ws_1", "e3")],
        CLAMPED_LOOKBACK,
    )
    assert second.rows.table.column("url")[0].as_py().startswith("<script>")  # data, as sent


def test_a_frame_whose_counts_disagree_with_its_rows_is_refused() -> None:
    with pytest.raises(ValueError, match="add up"):
        encode_request([(1, 5, 0)], events("e1"))
    good = frame([(1, 1, 0)], events("e1"))
    short = good[:4]  # the part count without its parts
    with pytest.raises(ValueError, match="shorter"):
        request_heads(short)
    lying = bytearray(good)
    lying[8:12] = (2).to_bytes(4, "little")  # says two rows
    with pytest.raises(ValueError, match="add up"):
        decode_request(lying)
    unknown = bytearray(good)
    unknown[12] = 9  # a lookback that does not exist
    with pytest.raises(ValueError, match="lookback"):
        decode_request(unknown)
    with pytest.raises(ValueError, match="unreadable"):
        decode_request(good[:13] + b"\x00" * 40)


def test_answers_carry_counts_or_a_failure() -> None:
    data = encode_answers([(1, Outcome(3, 1)), (2, RuntimeError("disk full"))])

    assert list(decode_answers(data)) == [(1, Outcome(3, 1)), (2, None)]


class Link:
    """Collects the answers the writer sends, as a worker's socket would."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, Outcome | BaseException]] = []
        self.arrived = threading.Event()

    def answer(self, outcomes: list[tuple[int, Outcome | BaseException]]) -> None:
        self.answers.extend(outcomes)
        self.arrived.set()


class Frame:
    """A sealed frame as the intake workers' relay hands it over."""

    def __init__(self, link: Link, data: bytes) -> None:
        self.link = link
        self.data = data
        self.heads = request_heads(data)

    @property
    def rows(self) -> int:
        return sum(rows for _, rows, _ in self.heads)

    def open(self) -> list[tuple[Submission, RemoteWaiter]]:
        return [
            (Submission(p.rows, p.lookback), RemoteWaiter(self.link, p.request_id))
            for p in decode_request(self.data)
        ]

    def fail(self, error: BaseException) -> None:
        self.link.answer([(request_id, error) for request_id, _, _ in self.heads])


def test_remote_requests_share_a_flush_with_local_ones_and_hear_their_own_outcome() -> None:
    async def scenario(store: EventStore) -> tuple[Outcome, list[Any]]:
        collector = Collector(store)
        await collector.start()
        link = Link()
        collector.submit_remote(Frame(link, frame([(1, 2, 0), (2, 1, 0)], events("a", "b", "c"))))
        # The same event from this process and again from the worker: stored once.
        local = await collector.submit(
            [{**events("c").to_pylist()[0], "received_at": T0 + timedelta(seconds=1)}]
        )
        await asyncio.to_thread(link.arrived.wait, 5)
        collector.submit_remote(Frame(link, frame([(3, 1, 0)], events("a"))))  # a replay
        await collector.stop()
        return local, link.answers

    with EventStore.open("duckdb://:memory:") as store:
        store.create_schema()
        local, answers = asyncio.run(scenario(store))
        ids = sorted(store.table("events").event_id.to_pyarrow().to_pylist())

    assert ids == ["a", "b", "c"]
    outcomes = dict(answers)
    assert outcomes[1] == Outcome(2, 0)
    assert outcomes[3] == Outcome(0, 1)
    assert local.accepted + outcomes[2].accepted == 1  # whichever came first stored "c"  # type: ignore[union-attr]


def test_a_frame_of_two_workspaces_keys_each_row_by_its_own() -> None:
    both = pa.concat_tables(
        [pa.Table.from_batches([events("a", "b")]), pa.Table.from_batches([events("a")])]
    )
    workspaces = pa.array(["ws_1", "ws_1", "ws_2"])
    batch = both.set_column(both.schema.get_field_index("workspace_id"), "workspace_id", workspaces)
    (part,) = decode_request(frame([(1, 3, 0)], batch.combine_chunks().to_batches()[0]))
    assert part.rows.keys == [("ws_1", "a"), ("ws_1", "b"), ("ws_2", "a")]


def test_requests_of_two_frames_repeating_each_other_store_each_event_once() -> None:
    async def scenario(store: EventStore) -> list[Any]:
        collector = Collector(store, max_wait=0.2)  # both frames in one flush
        await collector.start()
        link = Link()
        # Request 2 repeats "b" of request 1; frame two repeats "c" and brings "e".
        one = Frame(link, frame([(1, 2, 0), (2, 2, 0), (3, 1, 0)], events("a", "b", "b", "c", "d")))
        two = Frame(link, frame([(4, 2, 0), (5, 1, 1)], events("c", "e", "f")))
        collector.submit_remote(one)
        collector.submit_remote(two)
        await collector.stop()
        return link.answers

    with EventStore.open("duckdb://:memory:") as store:
        store.create_schema()
        answers = asyncio.run(scenario(store))
        stored = store.table("events").select("event_id", "ts").to_pyarrow().to_pylist()

    assert sorted(row["event_id"] for row in stored) == ["a", "b", "c", "d", "e", "f"]
    assert dict(answers) == {
        1: Outcome(2, 0),
        2: Outcome(1, 1),  # "b" was request 1's
        3: Outcome(1, 0),
        4: Outcome(1, 1),  # "c" was request 2's
        5: Outcome(1, 0),  # another lookback: written by its own statement
    }


def test_a_frame_split_between_lookbacks_is_written_whole_and_then_known() -> None:
    parts = [(1, 2, 0), (2, 1, 1), (3, 2, 0)]  # request 2 clamped: its own statement

    async def scenario(store: EventStore) -> list[Any]:
        collector = Collector(store)
        await collector.start()
        link = Link()
        collector.submit_remote(Frame(link, frame(parts, events("a", "b", "c", "d", "e"))))
        await asyncio.to_thread(link.arrived.wait, 5)
        link.arrived.clear()
        replay = [(request_id + 10, rows, lookback) for request_id, rows, lookback in parts]
        collector.submit_remote(Frame(link, frame(replay, events("a", "b", "c", "d", "e"))))
        await asyncio.to_thread(link.arrived.wait, 5)
        await collector.stop()
        return link.answers

    with EventStore.open("duckdb://:memory:") as store:
        store.create_schema()
        answers = asyncio.run(scenario(store))
        ids = sorted(store.table("events").event_id.to_pyarrow().to_pylist())

    assert ids == ["a", "b", "c", "d", "e"]
    assert dict(answers) == {
        1: Outcome(2, 0),
        2: Outcome(1, 0),
        3: Outcome(2, 0),
        11: Outcome(0, 2),
        12: Outcome(0, 1),
        13: Outcome(0, 2),
    }


def test_a_stopped_collector_fails_remote_requests_at_once() -> None:
    async def scenario(store: EventStore) -> list[Any]:
        collector = Collector(store)
        await collector.start()
        await collector.stop()
        link = Link()
        collector.submit_remote(Frame(link, frame([(5, 1, 0)], events("x"))))
        return link.answers

    with EventStore.open("duckdb://:memory:") as store:
        store.create_schema()
        answers = asyncio.run(scenario(store))

    assert [request_id for request_id, _ in answers] == [5]
    assert isinstance(answers[0][1], RuntimeError)


def test_a_frame_that_cannot_be_opened_fails_its_requests_and_the_writer_goes_on() -> None:
    class Broken(Frame):
        def open(self) -> list[tuple[Submission, RemoteWaiter]]:
            raise ValueError("unreadable")

    async def scenario(store: EventStore) -> tuple[list[Any], Outcome]:
        collector = Collector(store)
        await collector.start()
        link = Link()
        collector.submit_remote(Broken(link, frame([(9, 1, 0)], events("y"))))
        await asyncio.to_thread(link.arrived.wait, 5)
        later = await collector.submit(events("z").to_pylist())
        await collector.stop()
        return link.answers, later

    with EventStore.open("duckdb://:memory:") as store:
        store.create_schema()
        answers, later = asyncio.run(scenario(store))

    assert answers[0][0] == 9 and isinstance(answers[0][1], ValueError)
    assert later == Outcome(1, 0)
