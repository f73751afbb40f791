"""Personal data: the one masking policy (who sees which personal field) and erasure."""

from __future__ import annotations

from typing import Any, Final, Literal, TypeAlias

import phonenumbers
from sqlalchemy import update

from clarion.audiences import mirroring, suppression, upsert
from clarion.audiences.contracts import PERSONAL_FIELDS, Contact
from clarion.audiences.tables import consent_events, contacts
from clarion.core.clock import Clock
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

Role: TypeAlias = Literal["admin", "marketer", "analyst", "viewer"]
ROLES: Final[tuple[Role, ...]] = ("admin", "marketer", "analyst", "viewer")
Visibility: TypeAlias = Literal["full", "partial", "hidden"]
MASK: Final = "•••"

# THE policy. Rows: personal fields (and attributes, which may hold anything); columns: roles.
#   full     the value as stored
#   partial  enough to recognise or group by, not to reach the person: j•••@example.com,
#            +49•••67, "J.", postal code "10•••", an address line as "•••"
#   hidden   null
# Every reader of contacts for people (API, CLI, web UI) goes through mask_contact().
POLICY: Final[dict[str, dict[Role, Visibility]]] = {
    "email": {"admin": "full", "marketer": "full", "analyst": "partial", "viewer": "hidden"},
    "phone": {"admin": "full", "marketer": "full", "analyst": "partial", "viewer": "hidden"},
    "first_name": {"admin": "full", "marketer": "full", "analyst": "partial", "viewer": "hidden"},
    "last_name": {"admin": "full", "marketer": "full", "analyst": "partial", "viewer": "hidden"},
    "address_line1": {
        "admin": "full",
        "marketer": "partial",
        "analyst": "hidden",
        "viewer": "hidden",
    },
    "address_line2": {
        "admin": "full",
        "marketer": "partial",
        "analyst": "hidden",
        "viewer": "hidden",
    },
    "postal_code": {
        "admin": "full",
        "marketer": "full",
        "analyst": "partial",
        "viewer": "hidden",
    },
    "attributes": {"admin": "full", "marketer": "full", "analyst": "full", "viewer": "hidden"},
}
assert set(POLICY) == {*PERSONAL_FIELDS, "attributes"}


def check_role(role: str) -> Role:
    """``role`` if it is one; InvalidInput naming the roles otherwise."""
    if role not in ROLES:
        problem = f"unknown role {role[:40]!r}; roles: {', '.join(ROLES)}"
        raise InvalidInput(problem, [FieldProblem("role", problem)])
    return role


def visibility(field: str, role: Role) -> Visibility:
    """How ``role`` sees ``field`` (fields outside the policy are not personal: full)."""
    return POLICY.get(field, {}).get(role, "full")


def mask_contact(contact: Contact, role: str) -> dict[str, Any]:
    """The contact as ``role`` may see it, JSON-ready; ``masked`` lists what was masked."""
    checked = check_role(role)
    out: dict[str, Any] = {
        "id": contact.id,
        "external_id": contact.external_id,
        "email": contact.email,
        "phone": contact.phone,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "address_line1": contact.address_line1,
        "address_line2": contact.address_line2,
        "postal_code": contact.postal_code,
        "city": contact.city,
        "region": contact.region,
        "country": contact.country,
        "persona": contact.persona,
        "lifecycle_stage": contact.lifecycle_stage,
        "attributes": dict(contact.attributes),
        "created_at": contact.created_at.isoformat(),
        "updated_at": contact.updated_at.isoformat(),
        "erased_at": contact.erased_at.isoformat() if contact.erased_at else None,
    }
    masked = []
    for field in POLICY:
        seen = visibility(field, checked)
        if seen == "full" or not out[field]:
            continue
        out[field] = _partial(field, out[field]) if seen == "partial" else None
        masked.append(field)
    out["masked"] = masked
    out["role"] = checked
    return out


def _partial(field: str, value: Any) -> str | None:
    text = str(value)
    if field == "email":
        local, _, domain = text.partition("@")
        return f"{local[:1]}{MASK}@{domain}"
    if field == "phone":
        try:
            code = phonenumbers.parse(text, None).country_code
        except phonenumbers.NumberParseException:
            return MASK
        return f"+{code}{MASK}{text[-2:]}"
    partial = {
        "first_name": f"{text[:1]}.",
        "last_name": f"{text[:1]}.",
        "postal_code": f"{text[:2]}{MASK}",
    }
    return None if field == "attributes" else partial.get(field, MASK)


# What erasure clears: the personal fields, the ids and hashes that lead back to the person,
# location finer than the country, and attributes (which may hold anything).
ERASED_COLUMNS: Final = (
    *PERSONAL_FIELDS,
    "external_id",
    "email_hash",
    "city",
    "region",
)


def erase_contact(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    contact_id: str,
    *,
    clock: Clock,
    source: str,
) -> Contact:
    """Erase a contact's personal data on request; idempotent.

    In the app store the personal fields, external id, email hash, city, region and
    attributes are cleared and ``erased_at`` set; consent entries lose their proof reference
    (their purpose, channel and dates remain, as the record of lawful past contact). A
    suppression entry with the address's SHA-256 keeps the address from being stored or
    mailed again. The mirror gets an erased version without PII; events are kept: they hold
    pseudonymous ids only.
    """
    with store.transaction() as conn:
        row = upsert.find(conn, workspace_id, contact_id)
        versions = []
        if row.erased_at is None:
            now = clock.now()
            suppression.add(
                conn,
                workspace_id,
                contact_id=row.id,
                email_hash=row.email_hash,
                channel=None,
                reason="erased",
                source=source,
                now=now,
            )
            conn.execute(
                update(contacts)
                .where(contacts.c.id == row.id)
                .values(
                    {
                        **dict.fromkeys(ERASED_COLUMNS),
                        "attributes": {},
                        "erased_at": now,
                        "updated_at": now,
                    }
                )
            )
            conn.execute(
                update(consent_events)
                .where(consent_events.c.contact_id == row.id)
                .values(proof_ref=None)
            )
            versions = mirroring.versions(conn, workspace_id, [row.id], now=now)
        contact = upsert.to_contact(upsert.find(conn, workspace_id, contact_id))
    if versions:
        mirroring.append(events, versions, mirroring.next_stamp(events, workspace_id, clock))
    return contact
