"""The content slice's asset library: assets, versions and tags."""

import sqlalchemy as sa
from alembic import op

from clarion.stores.app.types import Json, UtcDateTime

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "content_assets",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_content_assets_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_content_assets"),
        sa.UniqueConstraint("workspace_id", "key", name="uq_content_assets_workspace_id_key"),
    )
    op.create_table(
        "content_versions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("asset_id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("includes", Json(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("published_by", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["content_assets.id"], name="fk_content_versions_asset_id_content_assets"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_content_versions"),
        sa.UniqueConstraint("asset_id", "version", name="uq_content_versions_asset_id_version"),
    )
    op.create_table(
        "content_tags",
        sa.Column("asset_id", sa.String(40), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["content_assets.id"], name="fk_content_tags_asset_id_content_assets"
        ),
        sa.PrimaryKeyConstraint("asset_id", "tag", name="pk_content_tags"),
    )
    op.create_index("ix_content_tags_tag", "content_tags", ["tag"])


def downgrade() -> None:
    op.drop_table("content_tags")
    op.drop_table("content_versions")
    op.drop_table("content_assets")
