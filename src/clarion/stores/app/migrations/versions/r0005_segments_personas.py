"""Stored segments and buyer personas."""

import sqlalchemy as sa
from alembic import op

from clarion.stores.app.types import Json, UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("rule", Json(), nullable=False),
        sa.Column("attribute_types", Json(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("refreshed_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_segments_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_segments"),
        sa.UniqueConstraint("workspace_id", "key", name="uq_segments_workspace_id_key"),
    )
    op.create_table(
        "personas",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("segment_key", sa.String(64), nullable=True),
        sa.Column("profile", Json(), nullable=False),
        sa.Column("content_keys", Json(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_personas_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_personas"),
        sa.UniqueConstraint("workspace_id", "key", name="uq_personas_workspace_id_key"),
    )


def downgrade() -> None:
    op.drop_table("personas")
    op.drop_table("segments")
