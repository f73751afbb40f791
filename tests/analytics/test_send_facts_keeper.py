"""`clarion serve` keeps the send facts folded; a fold that fails never stops the server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.instance import Instance
from clarion.stores.events import EventStore
from clarion.stores.events.keeper import SendFactsKeeper
from clarion.stores.events.send_facts import MARK


def folded_rows(instance: Instance) -> int:
    assert instance.events is not None
    rows = instance.events.connection.con.execute(f"SELECT events_upto FROM {MARK}").fetchall()
    return int(rows[0][0])


def test_the_server_folds_what_is_stored_when_it_starts(instance: Instance) -> None:
    assert instance.events is not None
    at = datetime(2027, 5, 3, 9, tzinfo=UTC)
    instance.events.append(
        "events",
        [
            {
                "event_id": f"e{n}",
                "workspace_id": "ws",
                "type": "email_open",
                "ts": at,
                "message_id": f"m{n}",
            }
            for n in range(3)
        ],
    )
    with TestClient(create_app(instance)) as client:
        keeper = client.app.state.send_facts_keeper  # type: ignore[attr-defined]
        assert client.portal is not None
        client.portal.call(keeper.fold_now)  # the tick at start may still be under way
        assert keeper.folds >= 1
        assert folded_rows(instance) == 3


def test_a_fold_that_fails_is_logged_and_the_server_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"duckdb://{tmp_path / 'e.duckdb'}"
    with EventStore.open(url) as store:
        store.create_schema()
    with EventStore.open(url, read_only=True) as store:
        keeper = SendFactsKeeper(store, every=0.01)

        async def tick() -> None:
            await keeper.start()
            await asyncio.sleep(0.05)
            await keeper.stop()

        asyncio.run(tick())
    assert keeper.folds == 0
    assert "folding the send facts failed, will retry" in caplog.text
