"""Workspaces, API keys and campaigns as plans."""

import sqlalchemy as sa
from alembic import op

from clarion.stores.app.types import Json, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workspaces"),
        sa.UniqueConstraint("key", name="uq_workspaces_key"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("prefix", sa.String(24), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), server_default="", nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_api_keys_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_workspace_id", "api_keys", ["workspace_id"])
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("objective", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("budget_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("audience", sa.String(200), nullable=True),
        sa.Column("brief", Json(), nullable=False),
        sa.Column("plan", Json(), nullable=False),
        sa.Column("plan_hash", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_campaigns_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.UniqueConstraint("workspace_id", "key", name="uq_campaigns_workspace_id_key"),
    )
    op.create_index("ix_campaigns_workspace_id_state", "campaigns", ["workspace_id", "state"])
    op.create_table(
        "campaign_kpi_targets",
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("comparator", sa.String(2), nullable=False),
        sa.Column("target", sa.Numeric(20, 6), nullable=False),
        sa.Column("unit", sa.String(8), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_campaign_kpi_targets_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint("campaign_id", "position", name="pk_campaign_kpi_targets"),
    )
    op.create_table(
        "campaign_channel_budgets",
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_campaign_channel_budgets_campaign_id_campaigns",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "channel", name="pk_campaign_channel_budgets"),
    )
    op.create_table(
        "campaign_hypotheses",
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("groups", Json(), nullable=False),
        sa.Column("expected", sa.String(16), nullable=False),
        sa.Column("min_ratio", sa.Numeric(12, 6), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_campaign_hypotheses_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint("campaign_id", "key", name="pk_campaign_hypotheses"),
    )
    op.create_table(
        "campaign_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_campaign_transitions_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_transitions"),
    )
    op.create_index("ix_campaign_transitions_campaign_id", "campaign_transitions", ["campaign_id"])


def downgrade() -> None:
    op.drop_table("campaign_transitions")
    op.drop_table("campaign_hypotheses")
    op.drop_table("campaign_channel_budgets")
    op.drop_table("campaign_kpi_targets")
    op.drop_table("campaigns")
    op.drop_table("api_keys")
    op.drop_table("workspaces")
