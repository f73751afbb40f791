"""Tables of the tracking slice: each tracked message and the links it carries."""

from sqlalchemy import Column, ForeignKey, Index, String, Table

from clarion.stores.app.metadata import metadata
from clarion.stores.app.types import Json, UtcDateTime

tracked_messages = Table(
    "tracked_messages",
    metadata,
    Column("message_id", String(64), primary_key=True),  # the outbox row's id
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("campaign_id", String(40), nullable=True),
    Column("contact_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("variant", String(64), nullable=True),
    Column("sent_at", UtcDateTime(), nullable=False),
    # Click destinations by link index: a click token names an index, never a URL.
    Column("links", Json(), nullable=False),
    Column("utm", Json(), nullable=False),  # UTM parameters appended to every destination
    Index(None, "workspace_id", "campaign_id"),
)

# The ledger that makes a conversion count once per order, whatever the postback's retries:
# it fixes the conversion's time at first sight, so every retry carries the same event.
conversion_orders = Table(
    "conversion_orders",
    metadata,
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), primary_key=True),
    Column("order_id", String(128), primary_key=True),
    Column("first_seen_at", UtcDateTime(), nullable=False),
    Column("committed_at", UtcDateTime(), nullable=True),  # set once the event is stored
)
