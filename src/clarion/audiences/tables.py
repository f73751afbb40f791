"""Tables of the audiences slice: contacts, consent ledger, suppression list, segments, personas."""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from clarion.stores.app.metadata import metadata
from clarion.stores.app.types import Json, UtcDateTime

contacts = Table(
    "contacts",
    metadata,
    Column("id", String(40), primary_key=True),  # ct_…
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("external_id", String(128), nullable=True),  # the id in the customer's CRM
    Column("email", String(254), nullable=True),  # normalised: trimmed, lower case
    Column("email_hash", String(64), nullable=True),  # SHA-256 hex of the normalised email
    Column("phone", String(16), nullable=True),  # E.164
    Column("first_name", String(100), nullable=True),
    Column("last_name", String(100), nullable=True),
    Column("address_line1", String(200), nullable=True),
    Column("address_line2", String(200), nullable=True),
    Column("postal_code", String(20), nullable=True),
    Column("city", String(100), nullable=True),
    Column("region", String(100), nullable=True),
    Column("country", String(2), nullable=True),  # ISO 3166-1 alpha-2
    Column("persona", String(64), nullable=True),  # persona key
    Column("lifecycle_stage", String(32), nullable=True),
    Column("attributes", Json(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("erased_at", UtcDateTime(), nullable=True),
    # NULLs are distinct in unique constraints on SQLite and PostgreSQL alike, so these make
    # email and external id unique per workspace where they are set.
    UniqueConstraint("workspace_id", "email"),
    UniqueConstraint("workspace_id", "external_id"),
    Index(None, "workspace_id", "email_hash"),
)

# Append-only: the current consent of a (contact, purpose, channel) is its newest entry by
# (at, id). Erasure is the one writer that touches old rows: it clears ``proof_ref``.
consent_events = Table(
    "consent_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # orders entries of one `at`
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("contact_id", String(40), ForeignKey("contacts.id"), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # granted | withdrawn
    Column("at", UtcDateTime(), nullable=False),  # when the person gave or withdrew it
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("source", String(200), nullable=False),
    Column("proof_kind", String(16), nullable=False),  # form | import | api | manual | …
    Column("proof_ref", Text, nullable=True),
    Index(None, "contact_id", "purpose", "channel"),
)

# Separate from consent: who must not be contacted whatever their consent says. An entry names
# a contact, an email hash (which outlives the contact's erasure), or both.
suppressions = Table(
    "suppressions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("contact_id", String(40), ForeignKey("contacts.id"), nullable=True),
    Column("email_hash", String(64), nullable=True),
    Column("channel", String(16), nullable=True),  # NULL: every channel
    Column("reason", String(16), nullable=False),  # hard_bounce|complaint|unsubscribe|manual|erased
    Column("source", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("lifted_at", UtcDateTime(), nullable=True),
    Index(None, "workspace_id", "email_hash"),
    Index(None, "contact_id"),
)

# A stored segment: its rule as written (JSON), the types of the custom attributes it uses, and
# a version that grows with every change of the rule. Membership lives in the event store.
segments = Table(
    "segments",
    metadata,
    Column("id", String(40), primary_key=True),  # sg_…
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("key", String(64), nullable=False),  # stable name, used by {segment: key}
    Column("name", String(200), nullable=True),
    Column("description", Text, nullable=True),
    Column("rule", Json(), nullable=False),
    Column("attribute_types", Json(), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("refreshed_at", UtcDateTime(), nullable=True),  # the last membership refresh
    UniqueConstraint("workspace_id", "key"),
)

# A buyer persona: structured fields (ranges, lists, enums) in ``profile``, the segment that
# finds its members and the content assets made for it (keys of the content library).
personas = Table(
    "personas",
    metadata,
    Column("id", String(40), primary_key=True),  # ps_…
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("key", String(64), nullable=False),
    Column("label", String(200), nullable=False),
    Column("segment_key", String(64), nullable=True),
    Column("profile", Json(), nullable=False),
    Column("content_keys", Json(), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("workspace_id", "key"),
)
