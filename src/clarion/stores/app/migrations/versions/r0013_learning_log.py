"""The workspace learning log: lessons of each campaign's report, read by the next plan."""

import sqlalchemy as sa
from alembic import op

from clarion.stores.app.types import Json, UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learning_log",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence", Json(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_learning_log_workspace_id_workspaces"
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_learning_log_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_learning_log"),
        sa.UniqueConstraint("campaign_id", "key", name="uq_learning_log_campaign_id_key"),
    )
    op.create_index(
        "ix_learning_log_workspace_id_recorded_at", "learning_log", ["workspace_id", "recorded_at"]
    )


def downgrade() -> None:
    op.drop_table("learning_log")
