"""Retargeting exports: a segment as a customer-match file (hashed email and phone) for an ad
platform, only for contacts who consented to ads personalisation and are not suppressed."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final, Literal, get_args

from clarion.audiences import service as contacts
from clarion.audiences.segments.snapshot import segment_members
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

Platform = Literal["google", "meta", "linkedin"]
PLATFORMS: Final = get_args(Platform)
PURPOSE: Final = "ads_personalisation"
CHANNEL: Final = "ads"


def normalise_email(email: str) -> str:
    """Trimmed and lower case: what Google, Meta and LinkedIn hash."""
    return email.strip().lower()


def _e164(phone: str) -> str | None:
    digits = re.sub(r"\D", "", phone)
    if not phone.strip().startswith("+") or not 8 <= len(digits) <= 15 or digits[0] == "0":
        return None  # without a country code the platforms cannot match it
    return "+" + digits


def google_phone(phone: str) -> str | None:
    """E.164 with the plus sign (``+33612345678``), as Google Ads Customer Match hashes it."""
    return _e164(phone)


def meta_phone(phone: str) -> str | None:
    """Digits only with the country code, no plus and no leading zeros (``33612345678``)."""
    e164 = _e164(phone)
    return None if e164 is None else e164[1:]


def sha256(text: str) -> str:
    """Lower-case hex SHA-256 of the UTF-8 text, unsalted."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Layout:
    """One platform's file: its column headers and how each is filled from email and phone."""

    headers: tuple[str, ...]
    email_column: str
    phone_column: str | None
    phone: Callable[[str], str | None] | None


LAYOUTS: Final[dict[str, Layout]] = {
    # support.google.com/google-ads/answer/7476159 (hashed data): English headers Email, Phone.
    "google": Layout(("Email", "Phone"), "Email", "Phone", google_phone),
    # developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences: email, phone.
    "meta": Layout(("email", "phone"), "email", "phone", meta_phone),
    # linkedin.com/help/lms/answer/a1489764: the contact list template's headers, kept as they
    # are; LinkedIn matches on email (plain or SHA-256), not on phone.
    "linkedin": Layout(
        ("email", "firstname", "lastname", "jobtitle", "employeecompany", "country", "googleaid"),
        "email",
        None,
        None,
    ),
}


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote and whom it left out, by reason (``no_consent``, ``suppressed``...)."""

    platform: str
    segment: str
    members: int
    exported: int
    excluded: dict[str, int] = field(default_factory=dict)


def check_platform(platform: str) -> Platform:
    """``platform`` if it is one; InvalidInput naming the platforms otherwise."""
    if platform not in PLATFORMS:
        problem = f"unknown platform {platform[:40]!r}; use one of: {', '.join(PLATFORMS)}"
        raise InvalidInput(problem, [FieldProblem("format", problem)])
    return platform  # type: ignore[return-value]


def export_segment(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    key: str,
    platform: str,
    *,
    now: datetime,
) -> tuple[str, ExportReport]:
    """The customer-match CSV text for stored segment ``key`` at ``now``, and its report.

    A member is written only when ``can_contact_many`` allows ``ads_personalisation:ads`` (so
    not erased, not suppressed for ads, consent granted and not withdrawn) and it has an
    identifier the platform matches on; the others are counted by reason.
    """
    layout = LAYOUTS[check_platform(platform)]
    members = segment_members(store, events, workspace_id, key, now=now)
    decisions = contacts.can_contact_many(store, workspace_id, members, PURPOSE, CHANNEL, now=now)
    allowed = [contact_id for contact_id in members if decisions[contact_id].allowed]
    excluded: Counter[str] = Counter(
        decisions[contact_id].reason for contact_id in members if not decisions[contact_id].allowed
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=layout.headers, lineterminator="\n")
    writer.writeheader()
    exported = 0
    for person in contacts.contacts_as(store, workspace_id, allowed, role="admin"):
        row = _row(layout, person.get("email"), person.get("phone"))
        if row is None:
            excluded["no_identifier"] += 1
            continue
        writer.writerow(row)
        exported += 1
    report = ExportReport(platform, key, len(members), exported, dict(sorted(excluded.items())))
    return out.getvalue(), report


def _row(layout: Layout, email: str | None, phone: str | None) -> dict[str, str] | None:
    row = dict.fromkeys(layout.headers, "")
    if email:
        row[layout.email_column] = sha256(normalise_email(email))
    if phone and layout.phone is not None and layout.phone_column is not None:
        normal = layout.phone(phone)
        if normal is not None:
            row[layout.phone_column] = sha256(normal)
    return row if any(row.values()) else None


def write_export(text: str, out: Path) -> None:
    """Write the file atomically: a crash leaves the old file or none, never half of one."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        Path(temporary).chmod(0o600)  # hashed identifiers are still personal data
        Path(temporary).replace(out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
