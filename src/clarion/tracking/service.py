"""The tracking facade: register tracked messages, resolve tokens, build the events they cause."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from clarion.core.ids import IdSource
from clarion.stores.app import AppStore
from clarion.tracking.contracts import TrackedMessage, TrackingUrls
from clarion.tracking.enrich import append_utm
from clarion.tracking.enrichment import Signals, click_flags, open_flags
from clarion.tracking.tables import conversion_orders, tracked_messages
from clarion.tracking.tokens import TokenClaims, sign, verify


def _tracked(row: Any) -> TrackedMessage:
    return TrackedMessage(
        message_id=row.message_id,
        workspace_id=row.workspace_id,
        campaign_id=row.campaign_id,
        contact_id=row.contact_id,
        channel=row.channel,
        variant=row.variant,
        sent_at=row.sent_at,
        links=tuple(row.links),
        utm=dict(row.utm),
    )


# Built once: the pixel and the redirect look a message up on every request.
_FIND_MESSAGE = select(tracked_messages).where(
    tracked_messages.c.message_id == bindparam("message_id")
)


def register_message(
    store: AppStore,
    message: TrackedMessage,
    *,
    key: bytes,
    base_url: str,
) -> TrackingUrls:
    """Store what a message's tokens refer to; return its pixel and click-redirect URLs."""
    return register_messages(store, [message], key=key, base_url=base_url)[0]


def register_messages(
    store: AppStore,
    messages: Sequence[TrackedMessage],
    *,
    key: bytes,
    base_url: str,
) -> list[TrackingUrls]:
    """``register_message`` for many messages in one transaction, URLs in the same order."""
    if messages:
        with store.transaction() as conn:
            conn.execute(
                insert(tracked_messages),
                [
                    {
                        "message_id": m.message_id,
                        "workspace_id": m.workspace_id,
                        "campaign_id": m.campaign_id,
                        "contact_id": m.contact_id,
                        "channel": m.channel,
                        "variant": m.variant,
                        "sent_at": m.sent_at,
                        "links": list(m.links),
                        "utm": m.utm,
                    }
                    for m in messages
                ],
            )
    return [tracking_urls(m, key=key, base_url=base_url) for m in messages]


def tracking_urls(message: TrackedMessage, *, key: bytes, base_url: str) -> TrackingUrls:
    """The pixel and redirect URLs of a registered message (deterministic)."""
    base = base_url.rstrip("/")
    pixel = sign(TokenClaims("o", message.message_id), key)
    clicks = tuple(
        f"{base}/t/c/{sign(TokenClaims('c', message.message_id, i), key)}"
        for i in range(len(message.links))
    )
    return TrackingUrls(open_pixel=f"{base}/t/o/{pixel}.gif", clicks=clicks)


def find_message(store: AppStore, message_id: str) -> TrackedMessage | None:
    """The tracked message with this id, if any."""
    row = store.read_one(_FIND_MESSAGE, {"message_id": message_id})
    return None if row is None else _tracked(row)


def resolve_open(store: AppStore, token: str, *, key: bytes) -> TrackedMessage | None:
    """The message a genuine open token names; None for a forged or unknown one."""
    claims = verify(token, key, "o")
    return None if claims is None else find_message(store, claims.message_id)


def resolve_click(
    store: AppStore, token: str, *, key: bytes
) -> tuple[TrackedMessage, int, str] | None:
    """The message, link index and destination (with the campaign's UTM) of a click token."""
    claims = verify(token, key, "c")
    if claims is None or claims.link_index is None:
        return None
    message = find_message(store, claims.message_id)
    if message is None or claims.link_index >= len(message.links):
        return None
    destination = append_utm(message.links[claims.link_index], message.utm)
    return message, claims.link_index, destination


def _message_row(
    message: TrackedMessage, type_: str, now: datetime, ids: IdSource
) -> dict[str, Any]:
    return {
        "event_id": ids.new("evt"),
        "workspace_id": message.workspace_id,
        "type": type_,
        "ts": now,
        "received_at": now,
        "contact_id": message.contact_id,
        "campaign_id": message.campaign_id,
        "message_id": message.message_id,
        "channel": message.channel,
        "variant": message.variant,
    }


def open_row(
    message: TrackedMessage, signals: Signals, *, now: datetime, ids: IdSource
) -> dict[str, Any]:
    """The ``email_open`` event for a pixel fetch, with machine opens flagged."""
    return {**_message_row(message, "email_open", now, ids), **open_flags(message, signals, now)}


def click_row(
    message: TrackedMessage,
    link_index: int,
    destination: str,
    signals: Signals,
    *,
    now: datetime,
    ids: IdSource,
) -> dict[str, Any]:
    """The ``email_click`` event for a redirect, with scanner clicks flagged."""
    row = _message_row(message, "email_click", now, ids)
    row["url"] = destination[:2048]
    row.update(click_flags(message, signals, now))
    row["properties"] = {**(row["properties"] or {}), "link_index": link_index}
    return row


def message_fields(message: TrackedMessage) -> Mapping[str, Any]:
    """The attribution a click token gives a conversion: contact, campaign, message, variant."""
    return {
        "contact_id": message.contact_id,
        "campaign_id": message.campaign_id,
        "message_id": message.message_id,
        "channel": message.channel,
        "variant": message.variant,
    }


def identity_rows(
    workspace_id: str, links: Sequence[tuple[str, str]], *, now: datetime, source: str
) -> list[dict[str, Any]]:
    """``identities`` rows linking anonymous ids to contacts."""
    return [
        {
            "workspace_id": workspace_id,
            "anonymous_id": anonymous_id,
            "contact_id": contact_id,
            "linked_at": now,
            "source": source,
        }
        for anonymous_id, contact_id in links
    ]


def claim_order(
    store: AppStore, workspace_id: str, order_id: str, *, now: datetime
) -> tuple[datetime, bool]:
    """An order's first-seen time and whether its conversion is stored already."""
    where = (
        conversion_orders.c.workspace_id == workspace_id,
        conversion_orders.c.order_id == order_id,
    )
    for _ in range(2):  # a concurrent first postback may win the insert: then read its row
        try:
            with store.transaction() as conn:
                row = conn.execute(select(conversion_orders).where(*where)).first()
                if row is not None:
                    return row.first_seen_at, row.committed_at is not None
                conn.execute(
                    insert(conversion_orders).values(
                        workspace_id=workspace_id, order_id=order_id, first_seen_at=now
                    )
                )
                return now, False
        except IntegrityError:
            continue
    raise RuntimeError(f"could not claim order {order_id!r}")


def mark_order_stored(store: AppStore, workspace_id: str, order_id: str, *, now: datetime) -> None:
    """Record that an order's conversion event is in the event store."""
    with store.transaction() as conn:
        conn.execute(
            update(conversion_orders)
            .where(
                conversion_orders.c.workspace_id == workspace_id,
                conversion_orders.c.order_id == order_id,
                conversion_orders.c.committed_at.is_(None),
            )
            .values(committed_at=now)
        )
