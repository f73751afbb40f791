"""Experiments, their lifecycle history and their stored decisions."""

import sqlalchemy as sa
from alembic import op

from clarion.stores.app.types import Json, UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("design", Json(), nullable=False),
        sa.Column("plan", Json(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("stopped_at", UtcDateTime(), nullable=True),
        sa.Column("rolled_out_variant", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_experiments_workspace_id_workspaces"
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_experiments_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.UniqueConstraint("workspace_id", "key", name="uq_experiments_workspace_id_key"),
    )
    op.create_index("ix_experiments_campaign_id", "experiments", ["campaign_id"])
    op.create_table(
        "experiment_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("experiment_id", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_experiment_transitions_experiment_id_experiments",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_experiment_transitions"),
    )
    op.create_index(
        "ix_experiment_transitions_experiment_id", "experiment_transitions", ["experiment_id"]
    )
    op.create_table(
        "experiment_decisions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("experiment_id", sa.String(40), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("winner", sa.String(200), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("inputs", Json(), nullable=False),
        sa.Column("results", Json(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_experiment_decisions_experiment_id_experiments",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_experiment_decisions"),
    )
    op.create_index(
        "ix_experiment_decisions_experiment_id_at", "experiment_decisions", ["experiment_id", "at"]
    )


def downgrade() -> None:
    op.drop_table("experiment_decisions")
    op.drop_table("experiment_transitions")
    op.drop_table("experiments")
