"""Unsubscribe: what a token leads to, the preferences it may change, and the change itself."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from clarion.audiences import service as audiences
from clarion.audiences.contracts import PURPOSES, Contact
from clarion.core.clock import Clock
from clarion.core.errors import NotFound
from clarion.core.ids import IdSource
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore
from clarion.tracking import service as tracking
from clarion.tracking.contracts import TrackedMessage
from clarion.tracking.tokens import verify

# Withdrawn on every unsubscribe, even when never granted: the ledger then holds the request.
ALWAYS_WITHDRAWN: Final = "marketing"

Via = Literal["one_click", "preference_page"]


@dataclass(frozen=True)
class Preferences:
    """What the preference page shows: a masked address and the purposes one can opt out of."""

    masked_address: str | None  # e.g. "j•••@example.com"; None when the contact is gone
    channel: str
    granted: tuple[str, ...]  # purposes granted on the channel now, in PURPOSES order
    unsubscribed: bool  # an unsubscribe suppression is in force on the channel


@dataclass(frozen=True)
class Outcome:
    """What an unsubscribe changed; nothing when it was done already (or the contact is gone)."""

    withdrawn: tuple[str, ...]  # purposes whose consent this request withdrew
    suppressed: bool  # this request added the unsubscribe suppression entry
    via: Via

    @property
    def changed(self) -> bool:
        return bool(self.withdrawn) or self.suppressed


def resolve(store: AppStore, token: str, *, key: bytes) -> TrackedMessage | None:
    """The message a genuine unsubscribe token names; None for a forged or unknown token."""
    claims = verify(token, key, "u")
    return None if claims is None else tracking.find_message(store, claims.message_id)


def _contact(store: AppStore, message: TrackedMessage) -> Contact | None:
    try:
        contact = audiences.get_contact(store, message.workspace_id, message.contact_id)
    except NotFound:
        return None
    return None if contact.erased else contact


def _granted(store: AppStore, contact: Contact, channel: str, now: datetime) -> tuple[str, ...]:
    states = audiences.current_consent(store, contact.workspace_id, contact.id, now=now)
    granted = {s.purpose for s in states if s.channel == channel and s.granted}
    return tuple(p for p in PURPOSES if p in granted)


def _unsubscribed(store: AppStore, contact: Contact, channel: str, now: datetime) -> bool:
    entry = audiences.is_suppressed(
        store, contact.workspace_id, contact_id=contact.id, channel=channel, now=now
    )
    return entry is not None and entry.reason == "unsubscribe"


def preferences(store: AppStore, message: TrackedMessage, *, now: datetime) -> Preferences:
    """The preference page's content for the recipient of ``message``."""
    contact = _contact(store, message)
    if contact is None:
        return Preferences(None, message.channel, (), True)
    masked = audiences.mask_contact(contact, "analyst").get("email")
    return Preferences(
        masked_address=masked if isinstance(masked, str) else None,
        channel=message.channel,
        granted=_granted(store, contact, message.channel, now),
        unsubscribed=_unsubscribed(store, contact, message.channel, now),
    )


def proof_ref(message: TrackedMessage, token: str) -> str:
    """The ledger's proof of an unsubscribe: the message and a digest of the token used."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:32]
    return f"message {message.message_id} token sha256:{digest}"


def unsubscribe(
    store: AppStore,
    events: EventStore,
    message: TrackedMessage,
    *,
    token: str,
    clock: Clock,
    purposes: Sequence[str] | None = None,
) -> Outcome:
    """Opt the recipient of ``message`` out, effective for every send checked from now on.

    ``purposes=None`` is a full unsubscribe (one-click, RFC 8058): an ``unsubscribe``
    suppression on the message's channel plus a withdrawal of every granted purpose there
    (and of marketing, always). Given purposes, only their consents are withdrawn. Repeating
    a request changes nothing and reports nothing changed.
    """
    contact = _contact(store, message)
    via: Via = "one_click" if purposes is None else "preference_page"
    if contact is None:  # unknown or erased: nobody left to contact
        return Outcome((), False, via)
    channel, now = message.channel, clock.now()
    source = f"unsubscribe:{message.message_id}"
    suppressed = False
    if purposes is None:
        if not _unsubscribed(store, contact, channel, now):
            audiences.suppress(
                store,
                events,
                contact.workspace_id,
                reason="unsubscribe",
                clock=clock,
                source=source,
                contact_id=contact.id,
                channel=channel,
            )
            suppressed = True
        granted = _granted(store, contact, channel, now)
        targets = tuple(dict.fromkeys([ALWAYS_WITHDRAWN, *granted]))
    else:
        targets = tuple(p for p in PURPOSES if p in set(purposes))
    current = {
        s.purpose: s.status
        for s in audiences.current_consent(store, contact.workspace_id, contact.id, now=now)
        if s.channel == channel
    }
    withdrawn = []
    for purpose in targets:
        if current.get(purpose) == "withdrawn":
            continue
        audiences.record_consent(
            store,
            events,
            contact.workspace_id,
            contact.id,
            pair=f"{purpose}:{channel}",
            status="withdrawn",
            clock=clock,
            source=source,
            proof_kind="email_link",
            proof_ref=proof_ref(message, token),
        )
        withdrawn.append(purpose)
    return Outcome(tuple(withdrawn), suppressed, via)


def unsubscribe_row(
    message: TrackedMessage, outcome: Outcome, *, now: datetime, ids: IdSource
) -> dict[str, Any]:
    """The ``unsubscribe`` event of a request that changed something."""
    return {
        "event_id": ids.new("evt"),
        "workspace_id": message.workspace_id,
        "type": "unsubscribe",
        "ts": now,
        "received_at": now,
        "contact_id": message.contact_id,
        "campaign_id": message.campaign_id,
        "message_id": message.message_id,
        "channel": message.channel,
        "variant": message.variant,
        "properties": {
            "via": outcome.via,
            "scope": "all" if outcome.via == "one_click" else "purposes",
            "withdrawn": list(outcome.withdrawn),
        },
    }
