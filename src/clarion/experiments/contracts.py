"""What the experiments slice shows the rest of the system: frozen results of its service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from clarion.experiments.design import ExperimentDesign, ExperimentPlan, Method
from clarion.experiments.lifecycle import ExperimentState

Outcome = Literal["winner", "inconclusive", "guardrail_breached", "srm_blocked"]


@dataclass(frozen=True)
class Experiment:
    """A stored experiment: its design, the plan derived from it, and where it is in its life."""

    id: str
    workspace_id: str
    campaign_id: str
    state: ExperimentState
    design: ExperimentDesign
    plan: ExperimentPlan
    started_at: datetime | None
    stopped_at: datetime | None
    rolled_out_variant: str | None
    created_at: datetime

    @property
    def key(self) -> str:
        return self.design.key


@dataclass(frozen=True)
class Arm:
    """One arm as observed: contacts exposed against what its weight promised."""

    variant: str
    weight: float
    exposed: int
    expected: float


@dataclass(frozen=True)
class SrmCheck:
    """Sample-ratio mismatch: a split this unlikely under the weights blocks any decision."""

    p_value: float
    mismatch: bool
    threshold: float


@dataclass(frozen=True)
class Comparison:
    """One challenger against its baseline on one metric; effects are absolute differences.

    ``ci_*`` and ``significant`` come from the experiment's stopping rule (alpha spending or
    always-valid), corrected for the number of comparisons: they may be read at any time.
    ``fixed_*`` is the naive one-look test, valid only once, at the planned horizon.
    """

    metric: str
    factor: str | None  # the factor of a multivariate main effect, else None
    baseline: str
    challenger: str
    n_baseline: int
    n_challenger: int
    mean_baseline: float
    mean_challenger: float
    estimate: float
    relative: float | None
    ci_lower: float
    ci_upper: float
    p_value: float | None  # adjusted always-valid p-value; None under alpha spending
    significant: bool
    better: Literal["higher", "lower"]
    fixed_p_value: float
    fixed_ci_lower: float
    fixed_ci_upper: float
    chance_to_beat: float  # posterior chance the challenger is better (in the good direction)
    risk: float  # expected loss of choosing the challenger, in the metric's units
    error: str | None

    @property
    def improves(self) -> bool:
        """Significantly better than the baseline, in the metric's good direction."""
        good = self.estimate > 0 if self.better == "higher" else self.estimate < 0
        return self.significant and good

    @property
    def worsens(self) -> bool:
        """Significantly worse than the baseline, in the metric's good direction."""
        bad = self.estimate < 0 if self.better == "higher" else self.estimate > 0
        return self.significant and bad


@dataclass(frozen=True)
class ExperimentResults:
    """Everything read from the event store at one instant, analysed; nothing is stored."""

    experiment_key: str
    at: datetime
    method: Method
    alpha: float
    correction: str
    planned_sample_size: int | None
    exposed: int
    information_fraction: float | None
    looks: tuple[float, ...]
    arms: tuple[Arm, ...]
    srm: SrmCheck
    primary: tuple[Comparison, ...]
    guardrails: tuple[Comparison, ...]
    multivariate: bool
    inputs: dict[str, object]  # the sufficient statistics and settings the numbers came from


@dataclass(frozen=True)
class Decision:
    """What the results say to do, in words the report reuses, with the numbers behind it."""

    outcome: Outcome
    winner: str | None
    explanation: str
    details: tuple[str, ...]  # one sentence per comparison and guardrail


@dataclass(frozen=True)
class StoredDecision:
    """A decision as kept in the app store, with the inputs it was made from."""

    id: str
    experiment_id: str
    at: datetime
    outcome: Outcome
    winner: str | None
    explanation: str
    inputs: dict[str, object]
    results: dict[str, object]
    actor: str
