"""Tables of the delivery slice: sends and their outbox, one row per recipient."""

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from clarion.stores.app.metadata import metadata
from clarion.stores.app.types import Json, UtcDateTime

# One send per (campaign, email step): starting the step again finds this row.
sends = Table(
    "sends",
    metadata,
    Column("id", String(40), primary_key=True),  # snd_…
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("step", String(64), nullable=False),  # the plan's email step key
    Column("state", String(16), nullable=False),  # running, paused, cancelled, done
    Column("audience", Json(), nullable=False),  # what the snapshot was taken from
    Column("options", Json(), nullable=False),  # the step as applied: template, from, UTM
    Column("recipients", Integer, nullable=False),  # rows created from the snapshot
    Column("not_before", UtcDateTime(), nullable=True),  # the step's scheduled time
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("actor", String(200), nullable=False),
    UniqueConstraint("campaign_id", "step"),
    Index(None, "workspace_id", "state"),
)

# The outbox: queued → claimed → sending (recorded before DATA) → sent / failed; or skipped
# (consent, suppression, frequency cap at send time) or cancelled; held rows wait for a
# test-then-send decision. The unique constraint is
# the idempotency key per (campaign, step, contact); the id is the deterministic message id.
outbox_messages = Table(
    "outbox_messages",
    metadata,
    Column("id", String(64), primary_key=True),  # msg_…: Message-ID, tracked_messages, events
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("send_id", String(40), ForeignKey("sends.id"), nullable=False),
    Column("campaign_id", String(40), nullable=False),
    Column("step", String(64), nullable=False),
    Column("contact_id", String(40), nullable=False),
    Column("variant", String(64), nullable=True),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),  # times handed to the SMTP server
    Column("in_doubt", Integer, nullable=False),  # times found in `sending` after a crash
    Column("claimed_by", String(64), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("sending_at", UtcDateTime(), nullable=True),  # last handed over; frequency cap
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("logged_at", UtcDateTime(), nullable=True),  # written to the event store
    Column("provider_id", String(200), nullable=True),
    Column("detail", Text, nullable=True),  # the server's words, or why it was skipped
    Column("created_at", UtcDateTime(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=True),  # a retry is not claimed before
    UniqueConstraint("campaign_id", "step", "contact_id"),
    Index(None, "send_id", "state"),
    Index(None, "workspace_id", "contact_id", "sending_at"),
)

# Test-then-send: what the rest of a send's audience got once the test share was measured.
# One row per send: deciding again finds it (the held rows are released once).
send_rollouts = Table(
    "send_rollouts",
    metadata,
    Column("send_id", String(40), ForeignKey("sends.id"), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("experiment_id", String(40), nullable=False),
    Column("decision_id", String(40), nullable=True),  # the stored experiment decision
    Column("outcome", String(24), nullable=True),  # winner, inconclusive, guardrail_breached…
    Column("action", String(16), nullable=False),  # send_winner or send_fallback
    Column("variant", String(200), nullable=False),  # what the rest gets
    Column("reason", Text, nullable=False),  # the decision's sentence, as the operator saw it
    Column("released", Integer, nullable=False),  # held rows queued with the variant
    Column("test_sent_at", UtcDateTime(), nullable=False),  # the wait counted from here
    Column("decided_at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
)
