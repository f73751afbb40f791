"""Test-then-send rollouts of sends, and the retry time of outbox rows (back-off)."""

import sqlalchemy as sa
from alembic import op

from clarion.stores.app.types import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_rollouts",
        sa.Column("send_id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("experiment_id", sa.String(40), nullable=False),
        sa.Column("decision_id", sa.String(40), nullable=True),
        sa.Column("outcome", sa.String(24), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("variant", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("released", sa.Integer(), nullable=False),
        sa.Column("test_sent_at", UtcDateTime(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["send_id"], ["sends.id"], name="fk_send_rollouts_send_id_sends"),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_send_rollouts_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("send_id", name="pk_send_rollouts"),
    )
    op.add_column("outbox_messages", sa.Column("next_attempt_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("next_attempt_at")
    op.drop_table("send_rollouts")
