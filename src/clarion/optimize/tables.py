"""Tables of the budget slice: allocation units, the allocation policy, and every split change."""

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from clarion.stores.app.metadata import metadata
from clarion.stores.app.types import Json, UtcDateTime

budget_units = Table(
    "budget_units",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("unit_key", String(200), nullable=False),  # channel/ad_set[/audience]
    Column("channel", String(64), nullable=False),
    Column("ad_set", String(64), nullable=False),
    Column("audience", String(64), nullable=True),
    Column("min_daily_minor", BigInteger, nullable=False),
    Column("max_daily_minor", BigInteger, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("campaign_id", "unit_key"),
)

budget_policies = Table(
    "budget_policies",
    metadata,
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), primary_key=True),
    Column("policy", Json(), nullable=False),  # the validated BudgetPolicy
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
)

budget_changes = Table(
    "budget_changes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),  # a person, an API key, or "allocator"
    Column("status", String(16), nullable=False),  # recommended, applied, rejected, superseded
    Column("reason", Text, nullable=False),
    Column("split", Json(), nullable=False),  # unit_key -> daily budget in minor units
    Column("expected", Json(), nullable=False),  # expected effect and its interval, guard notes
    Column("reverts", String(40), nullable=True),  # the change this one undoes
    Column("applied_at", UtcDateTime(), nullable=True),
    Column("applied_by", String(200), nullable=True),
    Index(None, "campaign_id", "at"),
)
