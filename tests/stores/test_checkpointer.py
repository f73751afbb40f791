"""`clarion serve`'s checkpointer folds the log on a timer, and a failure never stops it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clarion.stores.events import EventStore
from clarion.stores.events.checkpointer import Checkpointer

AT = datetime(2027, 5, 3, 9, tzinfo=UTC)


def test_appends_reach_the_file_between_appends_not_inside_them(tmp_path: Path) -> None:
    path = tmp_path / "e.duckdb"
    wal = tmp_path / "e.duckdb.wal"
    with EventStore.open(f"duckdb://{path}") as store:
        store.create_schema()
        checkpointer = Checkpointer(store, every=0.05)

        async def scenario() -> None:
            await checkpointer.start()
            row = {"workspace_id": "ws", "type": "page_view", "ts": AT}
            for n in range(20):  # the loop is busy here: no tick can run before the sleep
                store.append("events", [{**row, "event_id": f"e{n}"}])
            assert wal.stat().st_size > 0  # appended, not yet checkpointed
            await asyncio.sleep(0.3)
            await checkpointer.stop()

        asyncio.run(scenario())
        assert checkpointer.checkpoints >= 1
        assert not wal.exists() or wal.stat().st_size == 0  # folded into the file
        assert store.table("events").count().execute() == 20


def test_a_checkpoint_that_fails_is_logged_and_tried_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = EventStore.open(f"duckdb://{tmp_path / 'e.duckdb'}")
    store.create_schema()
    checkpointer = Checkpointer(store, every=0.02)

    async def scenario() -> None:
        await checkpointer.start()
        store.close()  # every checkpoint from now on fails
        await asyncio.sleep(0.15)
        await checkpointer.stop()

    asyncio.run(scenario())
    assert checkpointer.checkpoints == 0
    assert caplog.text.count("checkpointing the event store failed, will retry") >= 2
