"""Segment test fixtures: one in-memory event store, and a loader giving each case a workspace."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest

from clarion.stores.events import EventStore

Rows = Sequence[Mapping[str, Any]]
Loader = Callable[..., str]


@pytest.fixture(scope="module")
def event_store() -> Iterator[EventStore]:
    """An in-memory event store shared by a module; cases are kept apart by workspace."""
    with EventStore.open("duckdb://:memory:") as store:
        store.create_schema()
        yield store


@pytest.fixture(scope="module")
def load(event_store: EventStore) -> Loader:
    """``load(contacts=..., events=..., identities=...)`` → a fresh workspace id holding them."""
    counter = itertools.count()

    def loader(contacts: Rows = (), events: Rows = (), identities: Rows = ()) -> str:
        workspace_id = f"ws_{next(counter)}"
        for table, rows in (("contacts", contacts), ("events", events), ("identities", identities)):
            filled = [
                {"workspace_id": workspace_id, **row}
                if table != "events"
                else {"workspace_id": workspace_id, "event_id": f"e{i}", **row}
                for i, row in enumerate(rows)
            ]
            if filled:
                event_store.append(table, filled)
        return workspace_id

    return loader
