"""Tracked messages: what an open pixel or click token refers to."""

import sqlalchemy as sa
from alembic import op

from clarion.stores.app.types import Json, UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracked_messages",
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("campaign_id", sa.String(40), nullable=True),
        sa.Column("contact_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("variant", sa.String(64), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.Column("links", Json(), nullable=False),
        sa.Column("utm", Json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_tracked_messages_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("message_id", name="pk_tracked_messages"),
    )
    op.create_index(
        "ix_tracked_messages_workspace_id_campaign_id",
        "tracked_messages",
        ["workspace_id", "campaign_id"],
    )


def downgrade() -> None:
    op.drop_table("tracked_messages")
