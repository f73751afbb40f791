"""Tables of the auth slice: workspaces and API keys (stored hashed)."""

from sqlalchemy import Column, ForeignKey, Index, String, Table

from clarion.stores.app.metadata import metadata
from clarion.stores.app.types import UtcDateTime

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("key", String(64), nullable=False, unique=True),  # slug used by the CLI
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # "secret" or "write"
    Column("prefix", String(24), nullable=False),  # first characters, shown in listings
    Column("key_hash", String(64), nullable=False, unique=True),  # HMAC-SHA256 under the pepper
    Column("label", String(200), nullable=False, server_default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Index(None, "workspace_id"),
)
