"""Tables of the experiments slice: experiments, their lifecycle history, stored decisions."""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from clarion.stores.app.metadata import metadata
from clarion.stores.app.types import Json, UtcDateTime

experiments = Table(
    "experiments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("campaign_id", String(40), ForeignKey("campaigns.id"), nullable=False),
    Column("key", String(64), nullable=False),  # also the assignment hash's salt
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("design", Json(), nullable=False),  # the validated ExperimentDesign, as created
    Column("plan", Json(), nullable=False),  # sample size and stopping rule derived from it
    Column("started_at", UtcDateTime(), nullable=True),
    Column("stopped_at", UtcDateTime(), nullable=True),
    Column("rolled_out_variant", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("workspace_id", "key"),
    Index(None, "campaign_id"),
)

experiment_transitions = Table(
    "experiment_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("experiment_id", String(40), ForeignKey("experiments.id"), nullable=False),
    Column("from_state", String(16), nullable=True),  # NULL for the creation
    Column("to_state", String(16), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Index(None, "experiment_id"),
)

experiment_decisions = Table(
    "experiment_decisions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("experiment_id", String(40), ForeignKey("experiments.id"), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("outcome", String(24), nullable=False),  # winner, inconclusive, guardrail_breached...
    Column("winner", String(200), nullable=True),
    Column("explanation", Text, nullable=False),  # the plain-language sentence reports reuse
    Column("inputs", Json(), nullable=False),  # sufficient statistics, method, looks, alpha
    Column("results", Json(), nullable=False),  # every comparison as it was computed
    Column("actor", String(200), nullable=False),
    Index(None, "experiment_id", "at"),
)
