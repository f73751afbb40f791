"""An experiment's design (pydantic) and the plan it implies: sample size and stopping rule."""

from __future__ import annotations

import itertools
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from clarion.core.errors import FieldProblem, InvalidInput
from clarion.core.metrics import METRICS
from clarion.core.validation import problems_from
from clarion.experiments.outcomes import OUTCOME_METRICS
from clarion.stats import mean_sample_size, proportion_sample_size


def _printable(value: str) -> str:
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters")
    return value


Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,23}$"), AfterValidator(_printable)
]
ExperimentKey = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$"), AfterValidator(_printable)
]
# A multivariate arm is named by its levels, e.g. ``subject=short.cta=buy`` (≤ 199 characters).
VariantKey = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.=-]{0,198}$"), AfterValidator(_printable)
]
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(_printable)
]
ContentText = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_printable)]
StoppingRule = Literal["auto", "alpha_spending", "always_valid"]
Method = Literal["alpha_spending", "always_valid"]
Correction = Literal["holm", "benjamini_hochberg"]
MAX_VARIANTS = 26


class ExperimentKind(StrEnum):
    """What an experiment varies."""

    SUBJECT_LINE = "subject_line"
    CONTENT = "content"
    SEND_TIME = "send_time"
    LANDING_PAGE = "landing_page"
    AUDIENCE = "audience"
    CHANNEL = "channel"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariantSpec(_Strict):
    """One arm: its key, traffic weight and what it shows (e.g. ``subject: ...``)."""

    key: VariantKey
    weight: float = Field(default=1.0, gt=0, le=1000)
    description: str = Field(default="", max_length=500)
    content: dict[Slug, ContentText] = Field(default_factory=dict, max_length=20)


class FactorSpec(_Strict):
    """One factor of a multivariate test and its levels; the first level is the baseline."""

    key: Slug
    levels: list[Slug] = Field(min_length=2, max_length=8)


class TestThenSend(_Strict):
    """Send to a test share, wait, then send the winner to the rest, or else the fallback."""

    __test__ = False  # not a pytest class, whatever its name says

    test_share: float = Field(gt=0, lt=1, description="share of the audience in the test")
    wait_hours: float = Field(gt=0, le=24 * 30)
    fallback: VariantKey = Field(description="variant sent to the rest when there is no winner")


class ExperimentDesign(_Strict):
    """What a marketer declares: arms (or factors), metrics, effect to detect, stopping rule."""

    key: ExperimentKey
    name: ShortText
    campaign: str = Field(min_length=1, max_length=64, description="campaign id or key")
    kind: ExperimentKind
    variants: list[VariantSpec] = Field(default_factory=list, max_length=MAX_VARIANTS)
    factors: list[FactorSpec] = Field(default_factory=list, max_length=4)
    primary_metric: str
    guardrail_metrics: list[str] = Field(default_factory=list, max_length=10)
    minimum_detectable_effect: float | None = Field(
        default=None, gt=0, le=10, description="relative lift to detect, e.g. 0.1 for +10%"
    )
    baseline: float | None = Field(default=None, gt=0, description="expected control value")
    baseline_sd: float | None = Field(default=None, gt=0, description="per-contact sd (means)")
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    power: float = Field(default=0.8, gt=0.5, lt=1)
    stopping_rule: StoppingRule = "auto"
    correction: Correction = "holm"
    test_then_send: TestThenSend | None = None

    @model_validator(mode="before")
    @classmethod
    def _expand_factors(cls, data: Any) -> Any:
        # A multivariate test is declared by its factors; its arms are every combination.
        if isinstance(data, dict) and data.get("factors") and not data.get("variants"):
            try:
                factors = [FactorSpec.model_validate(f) for f in data["factors"]]
            except ValidationError:
                return data  # reported with its path by the field validation
            combos = itertools.product(*[[(f.key, lv) for lv in f.levels] for f in factors])
            data = {**data, "variants": [{"key": _combo_key(c)} for c in combos]}
        return data

    @property
    def control(self) -> str:
        return self.variants[0].key

    @property
    def metrics(self) -> list[str]:
        return [self.primary_metric, *self.guardrail_metrics]

    def weights(self) -> dict[str, float]:
        return {v.key: v.weight for v in self.variants}

    def levels_of(self, variant: str) -> dict[str, str]:
        """The factor levels a multivariate arm combines ({} for a plain A/B/n arm)."""
        if not self.factors:
            return {}
        return dict(part.split("=", 1) for part in variant.split("."))


def _combo_key(combo: tuple[tuple[str, str], ...]) -> str:
    return ".".join(f"{factor}={level}" for factor, level in combo)


def _arm_problems(design: ExperimentDesign) -> list[FieldProblem]:
    problems = []
    keys = [v.key for v in design.variants]
    if len(keys) < 2:
        problems.append(FieldProblem("variants", "an experiment needs at least two variants"))
    if len(keys) > MAX_VARIANTS:
        problems.append(FieldProblem("variants", f"at most {MAX_VARIANTS} variants"))
    for i, key in enumerate(keys):
        if key in keys[:i]:
            problems.append(FieldProblem(f"variants[{i}].key", f"{key!r} is used twice"))
    factor_keys = [f.key for f in design.factors]
    if len(set(factor_keys)) != len(factor_keys):
        problems.append(FieldProblem("factors", "factor keys must differ"))
    for i, factor in enumerate(design.factors):
        if len(set(factor.levels)) != len(factor.levels):
            problems.append(FieldProblem(f"factors[{i}].levels", "levels must differ"))
    tts = design.test_then_send
    if tts is not None and tts.fallback not in keys:
        problems.append(FieldProblem("test_then_send.fallback", f"no variant {tts.fallback!r}"))
    return problems


def _metric_problems(design: ExperimentDesign) -> list[FieldProblem]:
    problems = []
    named = [("primary_metric", design.primary_metric)]
    named += [(f"guardrail_metrics[{i}]", m) for i, m in enumerate(design.guardrail_metrics)]
    for path, name in named:
        if name not in METRICS:
            problems.append(FieldProblem(path, f"unknown metric {name[:64]!r}"))
        elif name not in OUTCOME_METRICS:
            known = ", ".join(OUTCOME_METRICS)
            problems.append(FieldProblem(path, f"{name!r} cannot be tested yet; use {known}"))
    if design.primary_metric in design.guardrail_metrics:
        problems.append(FieldProblem("guardrail_metrics", "must not repeat the primary metric"))
    return problems


def _sizing_problems(design: ExperimentDesign) -> list[FieldProblem]:
    problems = []
    spec = OUTCOME_METRICS.get(design.primary_metric)
    if design.minimum_detectable_effect is not None and spec is not None:
        if design.baseline is None:
            problems.append(FieldProblem("baseline", "needed to size a minimum detectable effect"))
        elif spec.kind == "proportion":
            lifted = design.baseline * (1 + design.minimum_detectable_effect)
            if design.baseline >= 1 or lifted >= 1:
                problems.append(FieldProblem("baseline", "a rate and its lift must stay below 1"))
        elif design.baseline_sd is None:
            problems.append(FieldProblem("baseline_sd", "needed to size a mean metric"))
    if design.stopping_rule == "alpha_spending" and design.minimum_detectable_effect is None:
        problems.append(
            FieldProblem("stopping_rule", "alpha spending needs a planned horizon: set the MDE")
        )
    return problems


def read_design(data: Any, source: str = "request") -> ExperimentDesign:
    """Validate ``data`` into a design; InvalidInput lists every problem with its path."""
    try:
        design = ExperimentDesign.model_validate(data)
    except ValidationError as exc:
        problems = problems_from(exc)
        message = f"invalid experiment: {len(problems)} problem(s)"
        raise InvalidInput(message, problems, source) from None
    problems = _arm_problems(design) + _metric_problems(design) + _sizing_problems(design)
    if problems:
        raise InvalidInput(f"invalid experiment: {len(problems)} problem(s)", problems, source)
    return design


class ExperimentPlan(_Strict):
    """What the design implies: contacts needed per arm and in total, and the stopping rule."""

    method: Method
    comparisons: int  # treatment arms (A/B/n) or factor levels (multivariate) against a baseline
    alpha_per_comparison: float  # Bonferroni split used for sizing (and alpha spending)
    sample_size_per_arm: int | None  # control-arm contacts for one look at the horizon
    sample_size: int | None  # all arms together: the planned horizon


def plan_for(design: ExperimentDesign) -> ExperimentPlan:
    """Size the test for ``power`` at one look on the horizon; choose how it may be read."""
    if design.factors:
        comparisons = sum(len(f.levels) - 1 for f in design.factors)
    else:
        comparisons = len(design.variants) - 1
    alpha = design.alpha / comparisons
    per_arm: int | None = None
    total: int | None = None
    mde, base = design.minimum_detectable_effect, design.baseline
    if mde is not None and base is not None:
        weights = [v.weight for v in design.variants]
        if design.factors:
            # A main effect compares all arms at one level with all arms at another.
            per_level = min(sum(weights) / len(f.levels) for f in design.factors)
            ratio, control_w = 1.0, per_level
        else:
            control_w = weights[0]
            ratio = min(weights[1:]) / control_w
        if OUTCOME_METRICS[design.primary_metric].kind == "proportion":
            n = proportion_sample_size(
                base, base * (1 + mde), alpha=alpha, power=design.power, ratio=ratio
            )
        else:
            n = mean_sample_size(
                design.baseline_sd or 0.0, base * mde, alpha=alpha, power=design.power, ratio=ratio
            )
        per_arm = int(n)
        total = int(-(-per_arm * sum(weights) // control_w))
    rule = design.stopping_rule
    horizon: Method = "alpha_spending" if total is not None else "always_valid"
    method: Method = horizon if rule == "auto" else rule
    return ExperimentPlan(
        method=method,
        comparisons=comparisons,
        alpha_per_comparison=alpha,
        sample_size_per_arm=per_arm,
        sample_size=total,
    )
