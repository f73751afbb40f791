"""Tables of the content slice: assets, their versions (immutable once published) and tags."""

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from clarion.stores.app.metadata import metadata
from clarion.stores.app.types import Json, UtcDateTime

content_assets = Table(
    "content_assets",
    metadata,
    Column("id", String(40), primary_key=True),  # as_…
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("key", String(120), nullable=False),  # what templates and campaigns name it by
    Column("kind", String(16), nullable=False),  # mjml | html | snippet | image
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("workspace_id", "key"),
)

# A version is a draft until published; a published row is never updated again. A new draft
# after a publish gets the next number.
content_versions = Table(
    "content_versions",
    metadata,
    Column("id", String(40), primary_key=True),  # av_…
    Column("asset_id", String(40), ForeignKey("content_assets.id"), nullable=False),
    Column("version", Integer, nullable=False),  # 1, 2, … per asset
    Column("state", String(16), nullable=False),  # draft | published
    Column("subject", Text, nullable=True),  # templates only
    Column("body", Text, nullable=True),  # templates and snippets
    Column("data", LargeBinary, nullable=True),  # images
    Column("content_type", String(64), nullable=False),  # sniffed for images
    Column("size", Integer, nullable=False),  # bytes of body or data
    Column("sha256", String(64), nullable=False),
    Column("includes", Json(), nullable=False),  # snippet key → version pinned at publish
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("published_at", UtcDateTime(), nullable=True),
    Column("published_by", String(200), nullable=True),
    UniqueConstraint("asset_id", "version"),
)

content_tags = Table(
    "content_tags",
    metadata,
    Column("asset_id", String(40), ForeignKey("content_assets.id"), primary_key=True),
    Column("tag", String(64), primary_key=True),
    Index(None, "tag"),
)
