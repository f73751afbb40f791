"""Intake of a plain batch in one compiled pass: msgspec decodes it, checks run per column.

Most batches are plain: page views and custom events whose fields are all well-formed.
For them, decoding into typed structs (in C) and checking each column at once costs a
fraction of ``to_row`` per event, and the result is columns, which is what the event store
takes. Anything unusual (a wrong or missing field, an email, epoch-millisecond or far-future
timestamps, a typed event) returns None, and the per-event path decides: it names every
problem exactly as before. Both paths give the same rows for the same
body, which ``tests/tracking/test_plain_batch.py`` checks on generated batches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
import orjson
from msgspec.structs import astuple

from clarion.tracking.enrich import UserAgent
from clarion.tracking.enrichment import cached_referrer, cached_utm
from clarion.tracking.intake import (
    CONTROL_CHARACTERS,
    FUTURE_TOLERANCE,
    LIMITS,
    MAX_BATCH,
    OLDEST,
    TEXT_FIELDS,
    TYPE_NAME,
    Rejected,
    checked_revenue,
    encoded_properties,
)
from clarion.tracking.vocabulary import CHECKS as TYPED_EVENTS

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NULL = msgspec.Raw(b"null")  # absent or null properties


def _text(limit: int) -> Any:
    return Annotated[str, msgspec.Meta(max_length=limit)] | None


class _Event(msgspec.Struct, forbid_unknown_fields=True):
    """A posted event with only the fields a plain event may carry (no email: it needs hashing)."""

    type: Annotated[str, msgspec.Meta(max_length=LIMITS["type"])]
    ts: Annotated[str, msgspec.Meta(max_length=40)]
    event_id: _text(LIMITS["event_id"]) = None  # type: ignore[valid-type]
    contact_id: _text(LIMITS["contact_id"]) = None  # type: ignore[valid-type]
    anonymous_id: _text(LIMITS["anonymous_id"]) = None  # type: ignore[valid-type]
    campaign_id: _text(LIMITS["campaign_id"]) = None  # type: ignore[valid-type]
    message_id: _text(LIMITS["message_id"]) = None  # type: ignore[valid-type]
    channel: _text(LIMITS["channel"]) = None  # type: ignore[valid-type]
    variant: _text(LIMITS["variant"]) = None  # type: ignore[valid-type]
    url: _text(LIMITS["url"]) = None  # type: ignore[valid-type]
    referrer: _text(LIMITS["referrer"]) = None  # type: ignore[valid-type]
    utm_source: _text(LIMITS["utm_source"]) = None  # type: ignore[valid-type]
    utm_medium: _text(LIMITS["utm_medium"]) = None  # type: ignore[valid-type]
    utm_campaign: _text(LIMITS["utm_campaign"]) = None  # type: ignore[valid-type]
    utm_term: _text(LIMITS["utm_term"]) = None  # type: ignore[valid-type]
    utm_content: _text(LIMITS["utm_content"]) = None  # type: ignore[valid-type]
    revenue: float | None = None
    currency: str | None = None
    # Raw, then parsed by orjson as the per-event path does (msgspec keeps integers beyond 64
    # bits as integers, orjson makes them floats: the stored JSON must not depend on the path).
    # (A Raw field cannot be optional: an absent or null properties is the Raw ``null``.)
    properties: msgspec.Raw = _NULL


class _Body(msgspec.Struct):
    batch: Annotated[list[_Event], msgspec.Meta(max_length=MAX_BATCH)]
    write_key: str | None = None


_DECODER = msgspec.json.Decoder(_Body)
_FIELDS = _Event.__struct_fields__
_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@dataclass
class EventColumns:
    """Checked events as columns of the events table; instants as epoch microseconds."""

    columns: dict[str, list[Any]] = field(default_factory=dict)
    count: int = 0

    def __len__(self) -> int:
        return self.count


@dataclass(frozen=True)
class PlainBatch:
    """A decoded body whose events are all plain; ``check`` turns it into columns or None."""

    events: list[_Event]
    write_key: str | None

    def check(
        self,
        *,
        workspace_id: str,
        received_at: datetime,
        new_id: Callable[[], str],
        agent: UserAgent,
    ) -> EventColumns | None:
        """The events as columns, or None at the first doubt (the per-event path decides)."""
        try:
            return _columns(self.events, workspace_id, received_at, new_id, agent)
        except Rejected:
            return None


def decode_plain(body: bytes) -> PlainBatch | None:
    """The body as plain events, or None if anything about it is not plain (or not JSON)."""
    try:
        decoded = _DECODER.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    return PlainBatch(decoded.batch, decoded.write_key)


def _columns(
    events: list[_Event],
    workspace_id: str,
    received_at: datetime,
    new_id: Callable[[], str],
    agent: UserAgent,
) -> EventColumns:
    count = len(events)
    if not count:
        return EventColumns({}, 0)
    # One tuple per event, transposed into one list per field, all in C.
    columns = dict(zip(_FIELDS, map(list, zip(*map(astuple, events), strict=True)), strict=True))
    for name in (*TEXT_FIELDS, "event_id"):
        values = columns[name]
        if values.count(None) == count:
            continue
        present = [v for v in values if v is not None]
        if CONTROL_CHARACTERS.search("".join(present)):
            raise Rejected(name, "checked field by field")
        if "" in present:
            if name == "event_id":
                raise Rejected(name, "checked field by field")
            columns[name] = [v or None for v in values]
    for type_ in set(columns["type"]):
        if not TYPE_NAME.match(type_) or type_ in TYPED_EVENTS:
            raise Rejected("type", "checked field by field")
    if not all(map(_either, columns["contact_id"], columns["anonymous_id"])):
        raise Rejected("contact_id", "checked field by field")
    columns["ts"] = _instants(columns["ts"], received_at)
    columns["revenue"], columns["currency"] = _money(columns["revenue"], columns["currency"])
    columns["properties"] = _all_properties(columns["properties"], count)
    # Ids are drawn only once nothing can fail, as the per-event path does.
    columns["event_id"] = [i if i is not None else new_id() for i in columns["event_id"]]
    _enrich(columns, count, agent)
    columns["workspace_id"] = [workspace_id] * count
    columns["received_at"] = [(received_at - _EPOCH) // _MICROSECOND] * count
    return EventColumns(columns, count)


def _either(contact_id: str | None, anonymous_id: str | None) -> bool:
    return bool(contact_id or anonymous_id)


def _instants(texts: list[str], received_at: datetime) -> list[int]:
    """Each ts as epoch microseconds: the same parse as ``parse_ts``; doubt raises Rejected."""
    try:
        parsed = list(map(datetime.fromisoformat, texts))
        earliest, latest = min(parsed), max(parsed)  # naive beside aware: TypeError
    except (ValueError, TypeError):
        raise Rejected("ts", "checked field by field") from None
    if earliest.tzinfo is None or earliest < OLDEST or latest > received_at + FUTURE_TOLERANCE:
        raise Rejected("ts", "checked field by field")  # no zone, too old, or clamped
    return [(ts - _EPOCH) // _MICROSECOND for ts in parsed]


def _money(revenue: list[Any], currency: list[Any]) -> tuple[list[Any], list[Any]]:
    count = len(revenue)
    if revenue.count(None) == count and currency.count(None) == count:
        return revenue, currency
    pairs = [
        checked_revenue({"revenue": r, "currency": c})
        for r, c in zip(revenue, currency, strict=True)
    ]
    return [r for r, _ in pairs], [c for _, c in pairs]


def _all_properties(raws: list[msgspec.Raw], count: int) -> list[str | None]:
    if raws.count(_NULL) == count:
        return [None] * count
    return [None if raw == _NULL else _encoded(raw) for raw in raws]


def _encoded(raw: msgspec.Raw) -> str | None:
    try:
        value = orjson.loads(bytes(raw))
    except orjson.JSONDecodeError:
        raise Rejected("properties", "checked field by field") from None
    if not isinstance(value, dict):
        raise Rejected("properties", "checked field by field")
    return encoded_properties(value)


def _enrich(columns: dict[str, list[Any]], count: int, agent: UserAgent) -> None:
    """``enrich_with`` for every event: UTM from the URL, the referrer, the device."""
    urls, referrers = columns["url"], columns["referrer"]
    utm = [columns[name] for name in _UTM]
    kinds: list[str | None] = [None] * count
    domains: list[str | None] = [None] * count
    for i in range(count):
        url = urls[i]
        if url and not (utm[0][i] or utm[1][i] or utm[2][i]):
            parsed = cached_utm(url)
            utm[0][i], utm[1][i], utm[2][i] = parsed.source, parsed.medium, parsed.campaign
            utm[3][i], utm[4][i] = parsed.term, parsed.content
        referrer, medium = referrers[i], utm[1][i]
        if url or referrer or medium:
            referral = cached_referrer(referrer, url, medium)
            kinds[i], domains[i] = referral.kind, referral.domain
    columns["referrer_kind"], columns["referrer_domain"] = kinds, domains
    columns["device"] = [agent.device] * count
    columns["is_machine"] = [agent.is_bot] * count
