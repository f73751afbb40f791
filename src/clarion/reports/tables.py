"""Tables of the reports slice: the workspace learning log the next plan reads."""

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from clarion.stores.app.metadata import metadata
from clarion.stores.app.types import Json, UtcDateTime

learning_log = Table(
    "learning_log",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("key", String(200), nullable=False),  # stable per campaign: a new report replaces it
    Column("text", Text(), nullable=False),
    Column("evidence", Json(), nullable=False),  # the finding or hypothesis ids it rests on
    Column("recorded_at", UtcDateTime(), nullable=False),
    UniqueConstraint("campaign_id", "key"),
    Index(None, "workspace_id", "recorded_at"),
)
