"""Tables of the campaigns slice: the plan, its parts, and the lifecycle history."""

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from clarion.stores.app.metadata import metadata
from clarion.stores.app.types import Json, UtcDateTime

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("key", String(64), nullable=False),  # stable name from the campaign file
    Column("name", String(200), nullable=False),
    Column("objective", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("budget_total_minor", BigInteger, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("audience", String(200), nullable=True),
    Column("brief", Json(), nullable=False),
    Column("plan", Json(), nullable=False),  # the whole validated plan, as applied
    Column("plan_hash", String(64), nullable=False),  # makes re-applying a file a no-op
    Column("revision", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("workspace_id", "key"),
    Index(None, "workspace_id", "state"),
)

campaign_kpi_targets = Table(
    "campaign_kpi_targets",
    metadata,
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("metric", String(64), nullable=False),
    Column("comparator", String(2), nullable=False),
    Column("target", Numeric(20, 6), nullable=False),
    Column("unit", String(8), nullable=True),
)

campaign_channel_budgets = Table(
    "campaign_channel_budgets",
    metadata,
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
)

campaign_hypotheses = Table(
    "campaign_hypotheses",
    metadata,
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("statement", Text, nullable=False),
    Column("metric", String(64), nullable=False),
    Column("groups", Json(), nullable=False),
    Column("expected", String(16), nullable=False),
    Column("min_ratio", Numeric(12, 6), nullable=True),
)

campaign_transitions = Table(
    "campaign_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("from_state", String(16), nullable=True),  # NULL for the creation
    Column("to_state", String(16), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Index(None, "campaign_id"),
)
