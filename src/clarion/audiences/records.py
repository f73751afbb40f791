"""One contact as given (a file row, an API item) → normalised values, or the problems in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from clarion.audiences import normalise
from clarion.audiences.contracts import (
    CHANNELS,
    CONTACT_FIELDS,
    PROOF_KINDS,
    PURPOSES,
    ConsentStatus,
    ProofKind,
)

Problem = tuple[str, str]  # (field, what is wrong)
MAX_CONSENTS: Final = 20  # per item
MAX_PROOF_REF: Final = 500
FUTURE_TOLERANCE: Final = timedelta(minutes=5)
OLDEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
TRUE_WORDS: Final = frozenset({"yes", "y", "true", "1", "granted", "opt-in", "optin", "x", "ja"})
FALSE_WORDS: Final = frozenset({"no", "n", "false", "0", "withdrawn", "opt-out", "optout", "nein"})
_TEXT_FIELDS: Final = (
    "first_name",
    "last_name",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
)
KNOWN_KEYS: Final = frozenset({*CONTACT_FIELDS, "attributes", "consents"})


@dataclass(frozen=True)
class ConsentInput:
    """A consent to record with a contact: the pair, granted or withdrawn, when, its proof."""

    purpose: str
    channel: str
    status: ConsentStatus = "granted"
    at: datetime | None = None  # None: when it is recorded
    proof_kind: ProofKind | None = None  # None: the kind of the call that records it
    proof_ref: str | None = None


@dataclass
class ContactRecord:
    """A contact's given values, normalised; empty values are left out (they change nothing)."""

    values: dict[str, Any] = field(default_factory=dict)  # contact column -> value
    attributes: dict[str, Any] = field(default_factory=dict)
    consents: list[ConsentInput] = field(default_factory=list)

    @property
    def external_id(self) -> str | None:
        return self.values.get("external_id")

    @property
    def email(self) -> str | None:
        return self.values.get("email")

    def merge(self, later: ContactRecord) -> None:
        """Take a later record's values over this one's (a duplicate row: the later one wins)."""
        self.values.update(later.values)
        self.attributes.update(later.attributes)
        self.consents.extend(later.consents)


def parse_pair(text: str) -> tuple[str, str]:
    """``marketing:email`` → ``("marketing", "email")``; ValueError naming the known values."""
    purpose, sep, channel = text.strip().lower().partition(":")
    if not sep:
        raise ValueError(f"{normalise.show(text)} is not purpose:channel, e.g. marketing:email")
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose[:40]!r}; known: {', '.join(PURPOSES)}")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel[:40]!r}; known: {', '.join(CHANNELS)}")
    return purpose, channel


def consent_flag(value: str) -> ConsentStatus | None:
    """A consent cell: yes/true/1 → granted, no/false/0 → withdrawn, empty → nothing."""
    cleaned = value.strip().lower()
    if not cleaned:
        return None
    if cleaned in TRUE_WORDS:
        return "granted"
    if cleaned in FALSE_WORDS:
        return "withdrawn"
    raise ValueError(f"{normalise.show(value)} is not yes or no")


def parse_time(value: Any, now: datetime) -> datetime:
    """An ISO 8601 instant with a zone, not in the future, not before 2000."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("expected an ISO 8601 time, e.g. 2027-03-01T09:30:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError("not an ISO 8601 time, e.g. 2027-03-01T09:30:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError("needs a time zone, e.g. 2027-03-01T09:30:00Z")
    parsed = parsed.astimezone(UTC)
    if parsed > now + FUTURE_TOLERANCE:
        raise ValueError("is in the future")
    if parsed < OLDEST:
        raise ValueError("is before the year 2000")
    return parsed


def parse_consent(value: Any, now: datetime) -> ConsentInput:
    """A consent given as ``"purpose:channel"`` or an object; ValueError if wrong."""
    if isinstance(value, str):
        purpose, channel = parse_pair(value)
        return ConsentInput(purpose, channel)
    if not isinstance(value, dict):
        raise ValueError('expected "purpose:channel" or an object with purpose and channel')
    unknown = sorted(set(value) - {"purpose", "channel", "status", "at", "proof"})
    if unknown:
        raise ValueError(f"unknown field {str(unknown[0])[:40]!r}")
    given_purpose, given_channel = value.get("purpose"), value.get("channel")
    if not isinstance(given_purpose, str) or not isinstance(given_channel, str):
        raise ValueError("purpose and channel are required (text)")
    purpose, channel = parse_pair(f"{given_purpose}:{given_channel}")
    status = value.get("status", "granted")
    if status not in ("granted", "withdrawn"):
        raise ValueError("status must be granted or withdrawn")
    at = parse_time(value["at"], now) if value.get("at") is not None else None
    kind, ref = parse_proof(value.get("proof"))
    return ConsentInput(purpose, channel, status, at, kind, ref)


def parse_proof(value: Any) -> tuple[ProofKind | None, str | None]:
    """A proof object ``{"kind": "form", "ref": "https://…/signup#v3"}``; both parts optional."""
    if value is None:
        return None, None
    if not isinstance(value, dict) or set(value) - {"kind", "ref"}:
        raise ValueError('proof must be an object with "kind" and "ref"')
    kind, ref = value.get("kind"), value.get("ref")
    if kind is not None and kind not in PROOF_KINDS:
        raise ValueError(f"proof kind must be one of {', '.join(PROOF_KINDS)}")
    if ref is not None:
        if not isinstance(ref, str):
            raise ValueError("proof ref must be text")
        ref = normalise.text(ref, MAX_PROOF_REF)
    return kind, ref


def parse_fields(
    raw: Mapping[str, Any], *, default_country: str | None = None, now: datetime
) -> tuple[ContactRecord | None, list[Problem]]:
    """Check one contact's values; ``(record, [])`` if good, ``(None, problems)`` if not.

    ``raw`` maps field names to values: text for a file cell, JSON values for an API item.
    ``attributes`` is a mapping, ``consents`` a list of pairs or objects. Every problem of
    the item is listed, each with its field.
    """
    problems: list[Problem] = []
    record = ContactRecord()
    values = record.values

    def take(name: str, parse: Any, *args: Any) -> None:
        value = raw.get(name)
        if value is None:
            return
        if isinstance(value, int | float) and not isinstance(value, bool) and name != "email":
            value = str(value)  # JSON numbers for ids, postal codes and phones
        if not isinstance(value, str):
            problems.append((name, "expected text"))
            return
        try:
            parsed = parse(value, *args)
        except ValueError as error:
            problems.append((name, str(error)))
            return
        if parsed is not None:
            values[name] = parsed

    take("country", normalise.country)
    take("external_id", normalise.field_text, "external_id")
    take("email", normalise.email)
    take("phone", normalise.phone, values.get("country") or default_country)
    for name in _TEXT_FIELDS:
        take(name, normalise.field_text, name)
    take("persona", normalise.key)
    take("lifecycle_stage", normalise.lifecycle_stage)
    if "email" in values:
        values["email_hash"] = normalise.email_hash(values["email"])
    if "external_id" not in values and "email" not in values and not _has(problems, "email"):
        problems.append(("email", "an email or an external id is required"))
    attributes = raw.get("attributes")
    if attributes:
        try:
            record.attributes = normalise.attributes(attributes)
        except ValueError as error:
            problems.append(("attributes", str(error)))
    consents = raw.get("consents")
    if consents:
        if not isinstance(consents, list):
            problems.append(("consents", "expected a list"))
        elif len(consents) > MAX_CONSENTS:
            problems.append(("consents", f"at most {MAX_CONSENTS} consents per contact"))
        else:
            for position, consent in enumerate(consents):
                try:
                    record.consents.append(parse_consent(consent, now))
                except ValueError as error:
                    problems.append((f"consents[{position}]", str(error)))
    return (None, problems) if problems else (record, problems)


def _has(problems: list[Problem], name: str) -> bool:
    return any(field == name for field, _ in problems)


def parse_item(item: Any, *, now: datetime) -> tuple[ContactRecord | None, list[Problem]]:
    """An API item: an object of known fields only, then as ``parse_fields``."""
    if not isinstance(item, dict):
        return None, [("*", "expected an object")]
    unknown = sorted(str(k) for k in item if k not in KNOWN_KEYS)
    if unknown:
        return None, [(unknown[0][:64], "unknown field (put custom data in attributes)")]
    return parse_fields(item, now=now)
