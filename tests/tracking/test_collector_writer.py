"""The collector's writer: concurrent requests share flushes, each hears its own outcome."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from clarion.stores.events import EventStore
from clarion.tracking.collector import Collector
from clarion.tracking.commit import Outcome
from clarion.tracking.enrich import classify_user_agent
from clarion.tracking.plain_batch import EventColumns, decode_plain

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def row(event_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "workspace_id": "ws_1",
        "type": "page_view",
        "ts": T0,
        "received_at": T0,
        "anonymous_id": "anon-1",
    }


def columns(*event_ids: str) -> EventColumns:
    body = orjson.dumps(
        {
            "batch": [
                {
                    "event_id": i,
                    "type": "page_view",
                    "ts": "2027-03-01T09:00:00Z",
                    "anonymous_id": "a",
                }
                for i in event_ids
            ]
        }
    )
    plain = decode_plain(body)
    assert plain is not None
    checked = plain.check(
        workspace_id="ws_1",
        received_at=T0 + timedelta(seconds=1),
        new_id=lambda: "unused",
        agent=classify_user_agent(None),
    )
    assert checked is not None
    return checked


def stored_ids(store: EventStore) -> list[str]:
    return sorted(store.table("events").event_id.to_pyarrow().to_pylist())


@pytest.fixture
def store() -> EventStore:
    opened = EventStore.open("duckdb://:memory:")
    opened.create_schema()
    return opened


def test_many_concurrent_requests_share_flushes_and_each_hears_its_outcome(
    store: EventStore,
) -> None:
    async def scenario() -> list[Outcome]:
        collector = Collector(store, max_wait=0.05)
        await collector.start()
        requests = [collector.submit_events(columns(f"c{i}", "shared")) for i in range(40)]
        requests += [collector.submit([row(f"r{i}"), row("shared")]) for i in range(40)]
        outcomes = await asyncio.gather(*requests)
        await collector.stop()
        assert collector.flushes < len(requests)  # group commit: fewer flushes than requests
        return outcomes

    outcomes = asyncio.run(scenario())
    assert sum(o.accepted for o in outcomes) == 81  # 80 own ids and "shared" once
    assert sum(o.duplicates for o in outcomes) == 79
    assert all(o.accepted + o.duplicates == 2 for o in outcomes)
    assert len(stored_ids(store)) == 81


def test_a_replayed_plain_batch_is_all_duplicates(store: EventStore) -> None:
    async def scenario() -> tuple[Outcome, Outcome]:
        collector = Collector(store)
        await collector.start()
        first = await collector.submit_events(columns("a", "b", "c"))
        again = await collector.submit_events(columns("a", "b", "c"))
        await collector.stop()
        return first, again

    assert asyncio.run(scenario()) == (Outcome(3, 0), Outcome(0, 3))
    assert stored_ids(store) == ["a", "b", "c"]


def test_stopping_flushes_what_waits_and_later_requests_are_refused(store: EventStore) -> None:
    async def scenario() -> Outcome:
        collector = Collector(store, max_wait=0.2)  # the flush would wait for company
        await collector.start()
        waiting = asyncio.ensure_future(collector.submit([row("last")]))
        await asyncio.sleep(0.01)
        await collector.stop()
        with pytest.raises(RuntimeError, match="not running"):
            await collector.submit([row("too-late")])
        return await waiting

    assert asyncio.run(scenario()) == Outcome(1, 0)
    assert stored_ids(store) == ["last"]


def test_a_failed_flush_fails_every_request_in_it_and_the_writer_goes_on(
    store: EventStore,
) -> None:
    async def scenario() -> None:
        collector = Collector(store, max_wait=0.2)  # both requests surely share the flush
        await collector.start()
        bad = {**row("bad"), "ts": "not a time"}  # the store refuses the whole batch
        results = await asyncio.gather(
            collector.submit([bad]), collector.submit([row("good")]), return_exceptions=True
        )
        assert all(isinstance(r, Exception) for r in results)
        assert await collector.submit([row("after")]) == Outcome(1, 0)
        await collector.stop()

    asyncio.run(scenario())
    assert stored_ids(store) == ["after"]
