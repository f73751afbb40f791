"""An intake worker's side of the relay: send checked events to the store's owner, await outcomes.

Requests checked in the same turn of the worker's event loop travel in one frame, so one-event
requests become one Arrow conversion and one message, not one each (``tracking/relay.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from clarion.core.clock import Clock
from clarion.core.errors import ClarionError
from clarion.stores.events.batch import columns_to_arrow, to_arrow
from clarion.stores.events.schema import EVENTS
from clarion.tracking.commit import Outcome, join_columns
from clarion.tracking.intake import is_clamped
from clarion.tracking.plain_batch import EventColumns
from clarion.tracking.relay import ANSWER, decode_answers, encode_request

_DEFAULT, _CLAMPED = 0, 1  # lookback indexes (relay.LOOKBACKS)
_Rows = Sequence[dict[str, Any]] | EventColumns


class NotCommitted(ClarionError):
    """The store's owner did not commit the events: nothing was acknowledged, send again."""

    def __init__(self, why: str) -> None:
        super().__init__(
            f"the events were not stored ({why}); nothing was acknowledged, send them again",
            {},
            "not_committed",
        )


class RelayClient:
    """Hands checked events to the store's owner and waits for their commit, like a Collector."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Outcome]] = {}
        self._queued: list[tuple[int, _Rows, int]] = []
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._lost: str | None = None
        self.on_lost: Any = None  # called once when the owner goes away

    async def connect(self, link: Any) -> None:
        """Talk to the owner over ``link`` (a connected socket)."""
        reader, self._writer = await asyncio.open_connection(sock=link)
        self._reading = asyncio.create_task(self._read(reader))

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._reading is not None:
            await asyncio.gather(self._reading, return_exceptions=True)

    async def submit_events(self, rows: _Rows) -> Outcome:
        """Wait until the owner has committed ``rows`` (or found them duplicates)."""
        if isinstance(rows, EventColumns):  # a plain batch: nothing in it was clamped
            parts: list[tuple[_Rows, int]] = [(rows, _DEFAULT)]
        else:
            parts = [
                ([r for r in rows if not is_clamped(r)], _DEFAULT),
                ([r for r in rows if is_clamped(r)], _CLAMPED),
            ]
        waits = [self._queue(part, lookback) for part, lookback in parts if len(part)]
        if not waits:
            return Outcome(0, 0)
        outcomes = [await wait for wait in waits]
        return Outcome(sum(o.accepted for o in outcomes), sum(o.duplicates for o in outcomes))

    def _queue(self, rows: _Rows, lookback: int) -> asyncio.Future[Outcome]:
        if self._lost is not None or self._writer is None:
            raise NotCommitted(self._lost or "the intake worker is not connected")
        request_id = next(self._ids) & 0xFFFFFFFF
        future = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        if not self._queued:
            asyncio.get_running_loop().call_soon(self._send)
        self._queued.append((request_id, rows, lookback))
        return future

    def _send(self) -> None:
        """Send everything queued in this turn of the loop as one frame."""
        queued, self._queued = self._queued, []
        if self._writer is None or self._lost is not None:
            self._fail([request_id for request_id, _, _ in queued], self._lost or "not connected")
            return
        try:
            batch = _record_batch([rows for _, rows, _ in queued], self.clock)
            frame = encode_request(
                [(request_id, len(rows), lookback) for request_id, rows, lookback in queued],
                batch,
            )
        except Exception as exc:
            for request_id, _, _ in queued:
                future = self._waiting.pop(request_id, None)
                if future is not None and not future.done():
                    future.set_exception(exc)
            return
        self._writer.writelines(frame)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        pending = b""
        # A broken link ends the reading like a closed one: the owner is gone (just below).
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                pending += data
                whole = len(pending) - len(pending) % ANSWER.size
                for request_id, outcome in decode_answers(pending[:whole]):
                    future = self._waiting.pop(request_id, None)
                    if future is None or future.done():
                        continue
                    if outcome is None:
                        future.set_exception(NotCommitted("the event store could not commit"))
                    else:
                        future.set_result(outcome)
                pending = pending[whole:]
        self._lost = "the event store's owner stopped"
        self._fail(list(self._waiting), self._lost)
        if self.on_lost is not None:
            self.on_lost()

    def _fail(self, request_ids: list[int], why: str) -> None:
        for request_id in request_ids:
            future = self._waiting.pop(request_id, None)
            if future is not None and not future.done():
                future.set_exception(NotCommitted(why))


def _record_batch(parts: list[_Rows], clock: Clock) -> pa.RecordBatch:
    """All parts' rows, in order, as one record batch of the events table."""
    tables: list[pa.Table] = []
    columns: list[dict[str, list[Any]]] = []
    for rows in parts:
        if isinstance(rows, EventColumns):
            columns.append(rows.columns)
            continue
        if columns:  # keep the parts' order: join the plain run before these rows
            tables.append(columns_to_arrow(EVENTS, join_columns(columns)))
            columns = []
        tables.append(to_arrow(EVENTS, list(rows), clock.now()))
    if columns:
        tables.append(columns_to_arrow(EVENTS, join_columns(columns)))
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    batches = table.combine_chunks().to_batches()
    return batches[0] if len(batches) == 1 else pa.RecordBatch.from_pylist([], EVENTS.arrow_schema)
