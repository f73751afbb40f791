"""The relay's wire format: checked events from an intake worker, outcomes back from the owner.

An intake worker (``tracking/intake_worker.py``) checks requests in its own process and sends
the store's owner one *request frame* per turn of its event loop: the requests' ids, row counts
and lookbacks, then all their rows as one Arrow record batch in the events table's schema. The
owner commits them with its own requests and sends back one fixed-size *answer* per request.
Both ends are the same installed Clarion, so the schema itself never travels.

Request frame: ``<I`` length of the rest, ``<I`` part count, per part ``<IIB`` (request id,
rows, lookback), then the record batch's IPC message. Answer: ``<IIIB`` (request id,
accepted, duplicates, status).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import repeat

import pyarrow as pa
import pyarrow.compute as pc

from clarion.stores.events.schema import EVENTS
from clarion.tracking.commit import CLAMPED_LOOKBACK, DEFAULT_LOOKBACK, ArrowRows, Outcome

LENGTH = struct.Struct("<I")
_COUNT = struct.Struct("<I")
_PART = struct.Struct("<IIB")
ANSWER = struct.Struct("<IIIB")
LOOKBACKS = (DEFAULT_LOOKBACK, CLAMPED_LOOKBACK)  # a part's lookback travels as its index
MAX_FRAME = 256 * 1024 * 1024  # far above any real frame: a longer length is a broken link
OK, FAILED = 0, 1


@dataclass(frozen=True)
class Part:
    """One request's share of a frame: its id in the worker, its rows, its lookback."""

    request_id: int
    rows: ArrowRows
    lookback: timedelta


def encode_request(parts: list[tuple[int, int, int]], batch: pa.RecordBatch) -> list[bytes]:
    """A request frame for ``parts`` (request id, rows, lookback index) and their rows.

    Returned as pieces (length, header, batch) for ``writelines``.
    """
    if sum(rows for _, rows, _ in parts) != batch.num_rows:
        raise ValueError("the parts' row counts must add up to the batch's rows")
    message = batch.serialize()
    head = _COUNT.pack(len(parts)) + b"".join(_PART.pack(*part) for part in parts)
    return [LENGTH.pack(len(head) + message.size), head, message.to_pybytes()]


def request_heads(frame: bytes | bytearray | memoryview) -> list[tuple[int, int, int]]:
    """A request frame's (request id, rows, lookback index) triples; ValueError if short."""
    view = memoryview(frame)
    if len(view) < _COUNT.size:
        raise ValueError("request frame shorter than its header")
    (count,) = _COUNT.unpack_from(view)
    if len(view) < _COUNT.size + count * _PART.size:
        raise ValueError("request frame shorter than its parts")
    return [_PART.unpack_from(view, _COUNT.size + i * _PART.size) for i in range(count)]


def decode_request(frame: bytes | bytearray | memoryview) -> list[Part]:
    """The parts of a request frame (without its length prefix); ValueError if malformed."""
    view = memoryview(frame)
    heads = request_heads(view)
    offset = _COUNT.size + len(heads) * _PART.size
    try:
        batch = pa.ipc.read_record_batch(pa.py_buffer(view[offset:]), EVENTS.arrow_schema)
    except (pa.ArrowException, OSError, EOFError) as exc:
        raise ValueError(f"request frame's record batch is unreadable: {exc}") from exc
    if sum(rows for _, rows, _ in heads) != batch.num_rows:
        raise ValueError("request frame's parts do not add up to its rows")
    if any(lookback >= len(LOOKBACKS) for _, _, lookback in heads):
        raise ValueError("request frame names an unknown lookback")
    table = pa.Table.from_batches([batch])
    keys = _keys(table)
    parts, start = [], 0
    for request_id, rows, lookback in heads:
        end = start + rows
        part_rows = ArrowRows(table, start, keys[start:end])
        parts.append(Part(request_id, part_rows, LOOKBACKS[lookback]))
        start = end
    return parts


def _keys(table: pa.Table) -> list[tuple[str, str]]:
    """The rows' (workspace, event id) keys; one workspace string for a frame of one workspace.

    The keys are remembered for duplicate checks (``RecentKeys``): one string per row for the
    same workspace would take a quarter of that memory.
    """
    workspaces = table.column("workspace_id")
    event_ids = table.column("event_id").to_pylist()
    if table.num_rows and pc.count_distinct(workspaces).as_py() == 1:
        return list(zip(repeat(workspaces[0].as_py(), len(event_ids)), event_ids, strict=True))
    return list(zip(workspaces.to_pylist(), event_ids, strict=True))


def encode_answers(outcomes: list[tuple[int, Outcome | BaseException]]) -> bytes:
    """Answers for the request ids: counts when committed, a failure when not."""
    return b"".join(
        ANSWER.pack(request_id, 0, 0, FAILED)
        if isinstance(outcome, BaseException)
        else ANSWER.pack(request_id, outcome.accepted, outcome.duplicates, OK)
        for request_id, outcome in outcomes
    )


def decode_answers(data: bytes | bytearray) -> Iterator[tuple[int, Outcome | None]]:
    """(request id, outcome or None when the commit failed) for each whole answer in ``data``."""
    for request_id, accepted, duplicates, status in ANSWER.iter_unpack(data):
        yield request_id, Outcome(accepted, duplicates) if status == OK else None
