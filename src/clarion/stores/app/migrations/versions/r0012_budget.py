"""Budget allocation: units with daily bounds, the allocation policy, and the split history."""

import sqlalchemy as sa
from alembic import op

from clarion.stores.app.types import Json, UtcDateTime

revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budget_units",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("unit_key", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("ad_set", sa.String(64), nullable=False),
        sa.Column("audience", sa.String(64), nullable=True),
        sa.Column("min_daily_minor", sa.BigInteger(), nullable=False),
        sa.Column("max_daily_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_budget_units_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_budget_units"),
        sa.UniqueConstraint("campaign_id", "unit_key", name="uq_budget_units_campaign_id_unit_key"),
    )
    op.create_table(
        "budget_policies",
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("policy", Json(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_budget_policies_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint("campaign_id", name="pk_budget_policies"),
    )
    op.create_table(
        "budget_changes",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("split", Json(), nullable=False),
        sa.Column("expected", Json(), nullable=False),
        sa.Column("reverts", sa.String(40), nullable=True),
        sa.Column("applied_at", UtcDateTime(), nullable=True),
        sa.Column("applied_by", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_budget_changes_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_budget_changes"),
    )
    op.create_index("ix_budget_changes_campaign_id_at", "budget_changes", ["campaign_id", "at"])


def downgrade() -> None:
    op.drop_table("budget_changes")
    op.drop_table("budget_policies")
    op.drop_table("budget_units")
