"""Intake: check one posted event field by field and turn it into an event store row."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from clarion.core.money import is_currency
from clarion.tracking.vocabulary import CHECKS as TYPED_EVENTS
from clarion.tracking.vocabulary import PropertyProblem, check_properties

MAX_BATCH = 500
FUTURE_TOLERANCE = timedelta(minutes=5)  # client clocks drift; beyond this a ts is not trusted
OLDEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_PROPERTIES_BYTES = 8192
LIMITS = {  # characters kept per field: enough for real values, too little for abuse
    "event_id": 128,
    "type": 64,
    "contact_id": 128,
    "anonymous_id": 128,
    "campaign_id": 64,
    "message_id": 64,
    "channel": 32,
    "variant": 64,
    "url": 2048,
    "referrer": 2048,
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
    "utm_term": 200,
    "utm_content": 200,
    "email": 254,
}
TEXT_FIELDS = (
    "contact_id",
    "anonymous_id",
    "campaign_id",
    "message_id",
    "channel",
    "variant",
    "url",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
)
KNOWN_FIELDS = frozenset(
    {"event_id", "type", "ts", "email", "revenue", "currency", "properties", *TEXT_FIELDS}
)
TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:\- ]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Problem:
    """Why one event of a batch was rejected."""

    index: int
    field: str
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "problem": self.problem}


class Rejected(Exception):
    """Raised inside intake when a field is wrong; becomes a Problem for that event."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


CLAMPED_MARK = "clarion_ts_clamped_from"


def is_clamped(row: Mapping[str, Any]) -> bool:
    """Whether intake moved this row's ts to its arrival (its duplicates lie further back)."""
    properties = row.get("properties")
    return isinstance(properties, str) and CLAMPED_MARK in properties


def email_pseudonym(email: str) -> str:
    """The anonymous id an email-only event is kept under until the address is a contact."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"eh_{digest[:40]}"


def parse_ts(value: Any) -> datetime:
    """An ISO 8601 instant with a zone, or epoch milliseconds, as an aware UTC datetime."""
    if isinstance(value, bool):
        raise Rejected("ts", "expected an ISO 8601 time or epoch milliseconds")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise Rejected("ts", "not a finite number")
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise Rejected("ts", "epoch milliseconds out of range") from None
    if not isinstance(value, str) or len(value) > 40:
        raise Rejected("ts", "expected an ISO 8601 time or epoch milliseconds")
    try:  # the common spelling ("...Z" or "+02:00") without the rewrite below
        direct = datetime.fromisoformat(value)
    except ValueError:
        direct = None
    if direct is not None and direct.tzinfo is not None:
        return direct.astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Rejected("ts", "not an ISO 8601 time, e.g. 2027-03-01T09:30:00Z") from None
    if parsed.tzinfo is None:
        raise Rejected("ts", "needs a time zone, e.g. 2027-03-01T09:30:00Z")
    return parsed.astimezone(UTC)


def _text(event: Mapping[str, Any], field: str) -> str | None:
    value = event.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Rejected(field, "expected a string")
    if len(value) > LIMITS[field]:
        raise Rejected(field, f"longer than {LIMITS[field]} characters")
    if CONTROL_CHARACTERS.search(value):
        raise Rejected(field, "contains control characters")
    return value or None


def encoded_properties(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Rejected("properties", "expected an object")
    try:
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (ValueError, TypeError):
        raise Rejected("properties", "not JSON-serialisable (NaN or Infinity?)") from None
    if len(encoded.encode()) > MAX_PROPERTIES_BYTES:
        raise Rejected("properties", f"larger than {MAX_PROPERTIES_BYTES} bytes")
    return encoded


def checked_revenue(event: Mapping[str, Any]) -> tuple[float | None, str | None]:
    revenue, currency = event.get("revenue"), event.get("currency")
    if revenue is None:
        if currency is not None and not (isinstance(currency, str) and is_currency(currency)):
            raise Rejected("currency", "unknown currency")
        return None, currency
    if isinstance(revenue, bool) or not isinstance(revenue, int | float):
        raise Rejected("revenue", "expected a number")
    if not math.isfinite(revenue) or revenue < 0 or revenue > 1e12:
        raise Rejected("revenue", "expected a finite amount between 0 and 10^12")
    if not isinstance(currency, str) or not is_currency(currency):
        raise Rejected("currency", "a known ISO 4217 currency is required with revenue")
    return float(round(revenue, 4)), currency


def to_row(
    event: Any, *, workspace_id: str, received_at: datetime, new_id: Callable[[], str]
) -> dict[str, Any]:
    """The event store row for one posted event; Rejected names the first wrong field."""
    try:
        return _plain_row(event, workspace_id=workspace_id, received_at=received_at, new_id=new_id)
    except Rejected:
        # Some doubt: the field-by-field checks below decide, and name the first problem in
        # their fixed order (the fast checks stop at whichever field they happen to see first).
        return _checked_row(
            event, workspace_id=workspace_id, received_at=received_at, new_id=new_id
        )


_TEXT_SET = frozenset(TEXT_FIELDS)
_NO_TEXT = dict.fromkeys(TEXT_FIELDS)


def _plain_row(
    event: Any, *, workspace_id: str, received_at: datetime, new_id: Callable[[], str]
) -> dict[str, Any]:
    """The common case, an event with nothing unusual, in one pass over its fields.

    Anything unusual (a wrong or missing field, a clamped ts, an email-only event) raises
    Rejected, and ``_checked_row`` then decides. An id is drawn only once nothing can fail,
    so an event that ends up on the careful path draws the same ids as before.
    """
    if type(event) is not dict or not event.keys() <= KNOWN_FIELDS:
        raise Rejected("*", "checked field by field")
    type_ = event.get("type")
    ts_text = event.get("ts")
    if type(type_) is not str or type(ts_text) is not str or not TYPE_NAME.match(type_):
        raise Rejected("*", "checked field by field")
    if type_ in TYPED_EVENTS:  # their properties have rules of their own (vocabulary.py)
        raise Rejected("properties", "checked field by field")
    ts = parse_ts(ts_text)
    if ts < OLDEST or ts > received_at + FUTURE_TOLERANCE:
        raise Rejected("ts", "checked field by field")
    row = _NO_TEXT.copy()
    for field, value in event.items():
        if field in _TEXT_SET and value is not None:
            if (
                type(value) is not str
                or len(value) > LIMITS[field]
                or CONTROL_CHARACTERS.search(value)
            ):
                raise Rejected(field, "checked field by field")
            row[field] = value or None
    if not (row["contact_id"] or row["anonymous_id"]) or event.get("email") is not None:
        raise Rejected("contact_id", "checked field by field")
    event_id = event.get("event_id")
    if event_id is not None and (
        type(event_id) is not str
        or not event_id
        or len(event_id) > LIMITS["event_id"]
        or CONTROL_CHARACTERS.search(event_id)
    ):
        raise Rejected("event_id", "checked field by field")
    row["revenue"], row["currency"] = checked_revenue(event)
    row.update(
        workspace_id=workspace_id,
        type=type_,
        ts=ts,
        received_at=received_at,
        properties=encoded_properties(event.get("properties")),
        event_id=event_id or new_id(),
    )
    return row


def _checked_row(
    event: Any, *, workspace_id: str, received_at: datetime, new_id: Callable[[], str]
) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise Rejected("*", "expected an object")
    unknown = event.keys() - KNOWN_FIELDS
    if unknown:
        name = sorted(str(k) for k in unknown)[0]
        raise Rejected(name[:64], "unknown field (put custom data in properties)")
    type_ = event.get("type")
    if not isinstance(type_, str) or not TYPE_NAME.match(type_):
        raise Rejected("type", "required: a name of 1-64 letters, digits, spaces or _.:-")
    if "ts" not in event:
        raise Rejected("ts", "required")
    ts = parse_ts(event["ts"])
    event_id = _text_id(event, new_id)
    row: dict[str, Any] = {field: _text(event, field) for field in TEXT_FIELDS}
    email = event.get("email")
    if email is not None and (
        not isinstance(email, str) or len(email) > LIMITS["email"] or not _EMAIL.match(email)
    ):
        raise Rejected("email", "not an email address")
    if not (row["contact_id"] or row["anonymous_id"] or email):
        raise Rejected("contact_id", "one of contact_id, anonymous_id or email is required")
    if email and not row["contact_id"] and not row["anonymous_id"]:
        # No PII in the event store: an email-only event is kept under a pseudonym that
        # identity stitching links to the contact once the address is known.
        row["anonymous_id"] = email_pseudonym(email)
    properties = event.get("properties")
    try:
        check_properties(type_, properties)  # lifecycle_change, survey_response
    except PropertyProblem as exc:
        raise Rejected(exc.field, exc.problem) from None
    if ts < OLDEST:
        raise Rejected("ts", "before the year 2000")
    if ts > received_at + FUTURE_TOLERANCE:
        # A clock far ahead is not trusted: keep the event at arrival time, and say so.
        properties = {**(properties if isinstance(properties, dict) else {})}
        properties[CLAMPED_MARK] = ts.isoformat()
        ts = received_at
    row["revenue"], row["currency"] = checked_revenue(event)
    row.update(
        event_id=event_id,
        workspace_id=workspace_id,
        type=type_,
        ts=ts,
        received_at=received_at,
        properties=encoded_properties(properties),
    )
    return row


def _text_id(event: Mapping[str, Any], new_id: Callable[[], str]) -> str:
    value = event.get("event_id")
    if value is None:
        return new_id()
    if not isinstance(value, str) or not value or len(value) > LIMITS["event_id"]:
        raise Rejected("event_id", f"expected a string of 1-{LIMITS['event_id']} characters")
    if CONTROL_CHARACTERS.search(value):
        raise Rejected("event_id", "contains control characters")
    return value
