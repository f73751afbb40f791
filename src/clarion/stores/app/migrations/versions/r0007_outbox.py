"""Sends and the outbox: one row per recipient, claimed and sent by the delivery worker."""

import sqlalchemy as sa
from alembic import op

from clarion.stores.app.types import Json, UtcDateTime

revision = "0007"
down_revision = "0006"  # chained after content (merged into this branch)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sends",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("audience", Json(), nullable=False),
        sa.Column("options", Json(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("not_before", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_sends_workspace_id_workspaces"
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_sends_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sends"),
        sa.UniqueConstraint("campaign_id", "step", name="uq_sends_campaign_id_step"),
    )
    op.create_index("ix_sends_workspace_id_state", "sends", ["workspace_id", "state"])
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("send_id", sa.String(40), nullable=False),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.String(40), nullable=False),
        sa.Column("variant", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("in_doubt", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("sending_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("logged_at", UtcDateTime(), nullable=True),
        sa.Column("provider_id", sa.String(200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_outbox_messages_workspace_id_workspaces"
        ),
        sa.ForeignKeyConstraint(["send_id"], ["sends.id"], name="fk_outbox_messages_send_id_sends"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_messages"),
        sa.UniqueConstraint(
            "campaign_id",
            "step",
            "contact_id",
            name="uq_outbox_messages_campaign_id_step_contact_id",
        ),
    )
    op.create_index("ix_outbox_messages_send_id_state", "outbox_messages", ["send_id", "state"])
    op.create_index(
        "ix_outbox_messages_workspace_id_contact_id_sending_at",
        "outbox_messages",
        ["workspace_id", "contact_id", "sending_at"],
    )


def downgrade() -> None:
    op.drop_table("outbox_messages")
    op.drop_table("sends")
