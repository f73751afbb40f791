"""Delivery feedback: applied reports (receipts) and soft bounces."""

import sqlalchemy as sa
from alembic import op

from clarion.stores.app.types import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_receipts",
        sa.Column("receipt", sa.String(160), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("receipt", name="pk_feedback_receipts"),
    )
    op.create_table(
        "soft_bounces",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("contact_id", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_soft_bounces_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_soft_bounces"),
    )
    op.create_index(
        "ix_soft_bounces_workspace_id_contact_id_at",
        "soft_bounces",
        ["workspace_id", "contact_id", "at"],
    )


def downgrade() -> None:
    op.drop_table("soft_bounces")
    op.drop_table("feedback_receipts")
