"""Tables of delivery feedback: reports already applied, and soft bounces to count."""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from clarion.stores.app.metadata import metadata
from clarion.stores.app.types import UtcDateTime

# One row per report applied, keyed by a digest of the report (a mailbox message, a file) or
# the provider's event id (a webhook): a re-import or a replayed webhook changes nothing.
feedback_receipts = Table(
    "feedback_receipts",
    metadata,
    Column("receipt", String(160), primary_key=True),
    Column("kind", String(16), nullable=False),  # hard_bounce | soft_bounce | complaint
    Column("message_id", String(64), nullable=True),  # the message it named, if found
    Column("received_at", UtcDateTime(), nullable=False),
)

# Soft bounces of a contact: enough of them within the window suppress the contact.
soft_bounces = Table(
    "soft_bounces",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("contact_id", String(128), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index(None, "workspace_id", "contact_id", "at"),
)
