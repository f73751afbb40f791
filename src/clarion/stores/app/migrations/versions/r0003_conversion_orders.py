"""Conversion orders: the ledger that makes a conversion postback count once."""

import sqlalchemy as sa
from alembic import op

from clarion.stores.app.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversion_orders",
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("first_seen_at", UtcDateTime(), nullable=False),
        sa.Column("committed_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_conversion_orders_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("workspace_id", "order_id", name="pk_conversion_orders"),
    )


def downgrade() -> None:
    op.drop_table("conversion_orders")
