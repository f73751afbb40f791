"""The campaign plan: its shape (pydantic) and its rules (one function listing every problem)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from email.utils import parseaddr
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

from clarion.audiences.segments.rules import parse_rule
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.core.metrics import METRICS, Unit
from clarion.core.money import CURRENCY_DIGITS
from clarion.core.validation import problems_from


def _printable(value: str) -> str:
    # Control characters (NUL above all) break PostgreSQL text and terminal output.
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters")
    return value


Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$"),
    AfterValidator(_printable),
]
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(_printable)
]
LongText = Annotated[str, StringConstraints(max_length=5000), AfterValidator(_printable)]
Comparator = Literal["<=", ">=", "<", ">", "=="]
Dimension = Literal["channel", "ad_set", "audience", "segment", "persona", "variant", "creative"]

_KPI_TEXT = re.compile(
    r"^\s*(?P<metric>[a-z_]+)\s*(?P<op><=|>=|==|<|>|≤|≥)\s*"
    r"(?P<value>-?\d+(?:\.\d+)?)\s*(?P<unit>%|[A-Z]{3}|€|\$|£)?\s*$"
)
_SYMBOLS = {"≤": "<=", "≥": ">=", "€": "EUR", "$": "USD", "£": "GBP"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KpiTarget(_Strict):
    """A KPI target such as ``cpa <= 40 EUR`` or ``mqls >= 600``; also written as that text."""

    metric: str
    comparator: Comparator
    target: Decimal
    unit: str | None = Field(default=None, description="currency code, '%' or nothing")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if not isinstance(data, str):
            return data
        match = _KPI_TEXT.match(data)
        if match is None:
            raise ValueError(
                f"cannot read KPI target {data[:80]!r}: expected 'metric comparator value [unit]',"
                " e.g. 'cpa <= 40 EUR' or 'open_rate >= 25%'"
            )
        unit = match["unit"]
        return {
            "metric": match["metric"],
            "comparator": _SYMBOLS.get(match["op"], match["op"]),
            "target": match["value"],
            "unit": _SYMBOLS.get(unit, unit) if unit else None,
        }

    @property
    def value(self) -> Decimal:
        """The target in the metric's own unit (a rate as a fraction, 25% → 0.25)."""
        return self.target / 100 if self.unit == "%" else self.target

    def __str__(self) -> str:
        unit = "" if self.unit is None else ("%" if self.unit == "%" else f" {self.unit}")
        return f"{self.metric} {self.comparator} {self.target}{unit}"


class Budget(_Strict):
    """The campaign budget and its split over channels (amounts in the plan's currency)."""

    total: Decimal
    split: dict[Slug, Decimal] = Field(default_factory=dict)


class Hypothesis(_Strict):
    """A pre-registered hypothesis: the first group does better (or worse) than the second."""

    key: Slug
    statement: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    metric: str
    groups: Annotated[list[dict[Dimension, ShortText]], Field(min_length=2, max_length=2)]
    expected: Literal["higher", "lower", "different"]
    min_ratio: Decimal | None = Field(
        default=None, description="e.g. 2 for 'converts 2× better'; None for any difference"
    )


class Brief(_Strict):
    """The one-page brief: message, call to action, timing, channels."""

    message: LongText = ""
    call_to_action: LongText = ""
    timing: LongText = ""
    channels: list[Slug] = Field(default_factory=list)


def _header_safe(value: str) -> str:
    # A line break in a header value would let a plan inject headers into every email.
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters or line breaks")
    return value


HeaderText = Annotated[
    str, StringConstraints(min_length=3, max_length=320), AfterValidator(_header_safe)
]
UTM_KEYS = ("source", "medium", "campaign", "term", "content")


class EmailStep(_Strict):
    """One email the campaign sends: a template version to an audience, at a time."""

    key: Slug
    template: Slug = Field(description="template key in the content library")
    template_version: int | None = Field(default=None, ge=1, description="None: the newest")
    audience: ShortText | dict[str, Any] | None = Field(
        default=None,
        description="'all', 'segment:KEY' or an inline rule tree; None: the campaign's audience",
    )
    from_address: HeaderText | None = Field(default=None, description="None: settings.smtp")
    reply_to: HeaderText | None = None
    utm: dict[str, Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=dict, description="source, medium, campaign, term, content"
    )
    scheduled_at: datetime | None = Field(default=None, description="not sent before this")
    experiment: Slug | None = Field(
        default=None,
        description="key of a subject_line or content experiment on this campaign",
    )


class CampaignPlan(_Strict):
    """Everything a marketer decides before launch; what a campaign file holds."""

    key: Slug
    name: ShortText
    objective: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    start_date: date
    end_date: date
    currency: str = "EUR"
    audience: ShortText | None = None
    budget: Budget
    kpis: list[KpiTarget] = Field(default_factory=list)
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    brief: Brief = Field(default_factory=Brief)
    # Segments ({key, name, rule, ...}) and personas, checked and saved by the audiences slice.
    segments: list[dict[str, Any]] = Field(default_factory=list, max_length=200)
    personas: list[dict[str, Any]] = Field(default_factory=list, max_length=100)
    email: list[EmailStep] = Field(default_factory=list)

    def canonical_hash(self) -> str:
        """A hash of the plan's content: equal plans hash equal, whatever their key order."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _kpi_problems(plan: CampaignPlan) -> list[FieldProblem]:
    problems = []
    for i, kpi in enumerate(plan.kpis):
        path = f"kpis[{i}]"
        known = METRICS.get(kpi.metric)
        if known is None:
            problems.append(FieldProblem(f"{path}.metric", f"unknown KPI metric {kpi.metric!r}"))
            continue
        if known.unit is Unit.MONEY:
            if kpi.unit not in (None, plan.currency):
                problems.append(
                    FieldProblem(
                        f"{path}.unit",
                        f"{kpi.metric} is money in the plan's currency {plan.currency},"
                        f" not {kpi.unit}",
                    )
                )
        elif known.unit is Unit.RATE:
            if kpi.unit not in (None, "%"):
                problems.append(FieldProblem(f"{path}.unit", f"{kpi.metric} is a rate: use %"))
            elif not Decimal(0) <= kpi.value <= Decimal(1):
                problems.append(
                    FieldProblem(f"{path}.target", f"{kpi.metric} is a rate between 0% and 100%")
                )
        elif kpi.unit is not None:
            problems.append(
                FieldProblem(f"{path}.unit", f"{kpi.metric} is a {known.unit.value}: no unit")
            )
        if known.unit is Unit.COUNT and (kpi.target < 0 or kpi.target != kpi.target.to_integral()):
            problems.append(
                FieldProblem(f"{path}.target", f"{kpi.metric} is a count: a whole number ≥ 0")
            )
        if known.unit in (Unit.MONEY, Unit.SECONDS) and kpi.target < 0:
            problems.append(FieldProblem(f"{path}.target", "must not be negative"))
    return problems


def _budget_problems(plan: CampaignPlan) -> list[FieldProblem]:
    problems = []
    budget, digits = plan.budget, CURRENCY_DIGITS.get(plan.currency, 2)
    if budget.total < 0:
        problems.append(FieldProblem("budget.total", "must not be negative"))
    if _decimals(budget.total) > digits:
        problems.append(
            FieldProblem("budget.total", f"{plan.currency} has {digits} decimal places at most")
        )
    for channel, amount in budget.split.items():
        if amount < 0:
            problems.append(FieldProblem(f"budget.split.{channel}", "must not be negative"))
        elif _decimals(amount) > digits:
            problems.append(
                FieldProblem(
                    f"budget.split.{channel}",
                    f"{plan.currency} has {digits} decimal places at most",
                )
            )
    allocated = sum(budget.split.values(), Decimal(0))
    if budget.split and allocated != budget.total:
        problems.append(
            FieldProblem(
                "budget.split",
                f"channel amounts sum to {allocated}, not the budget total {budget.total}",
            )
        )
    return problems


def _hypothesis_problems(plan: CampaignPlan) -> list[FieldProblem]:
    problems, seen = [], set()
    for i, hypothesis in enumerate(plan.hypotheses):
        path = f"hypotheses[{i}]"
        if hypothesis.key in seen:
            problems.append(FieldProblem(f"{path}.key", f"duplicate key {hypothesis.key!r}"))
        seen.add(hypothesis.key)
        if hypothesis.metric not in METRICS:
            problems.append(
                FieldProblem(f"{path}.metric", f"unknown KPI metric {hypothesis.metric!r}")
            )
        first, second = hypothesis.groups
        if not first or not second:
            problems.append(FieldProblem(f"{path}.groups", "each group names at least one value"))
        elif first == second:
            problems.append(FieldProblem(f"{path}.groups", "the two groups are the same"))
        if hypothesis.min_ratio is not None and hypothesis.min_ratio <= 0:
            problems.append(FieldProblem(f"{path}.min_ratio", "must be greater than 0"))
    return problems


def _email_problems(plan: CampaignPlan) -> list[FieldProblem]:
    problems, seen = [], set()
    tested: dict[str, str] = {}  # experiment key -> the step that names it
    for i, step in enumerate(plan.email):
        path = f"email[{i}]"
        if step.key in seen:
            problems.append(FieldProblem(f"{path}.key", f"duplicate step key {step.key!r}"))
        seen.add(step.key)
        if step.experiment is not None:
            # A second step would expose the same contacts twice to one experiment.
            first = tested.setdefault(step.experiment, step.key)
            if first != step.key:
                problems.append(
                    FieldProblem(
                        f"{path}.experiment",
                        f"experiment {step.experiment!r} is already tested by step {first!r}",
                    )
                )
        for address_field in ("from_address", "reply_to"):
            address = getattr(step, address_field)
            if address is not None and "@" not in parseaddr(address)[1]:
                problems.append(
                    FieldProblem(f"{path}.{address_field}", f"not an email address: {address!r}")
                )
        for name in step.utm:
            if name.removeprefix("utm_") not in UTM_KEYS:
                problems.append(
                    FieldProblem(
                        f"{path}.utm.{name}", f"not a UTM parameter ({', '.join(UTM_KEYS)})"
                    )
                )
        if step.scheduled_at is not None and step.scheduled_at.tzinfo is None:
            problems.append(
                FieldProblem(f"{path}.scheduled_at", "needs a time zone, e.g. 2027-03-02T09:00Z")
            )
        problems += _audience_problems(step.audience, f"{path}.audience")
    return problems


def _audience_problems(audience: str | dict[str, Any] | None, path: str) -> list[FieldProblem]:
    if audience is None or audience == "all":
        return []
    if isinstance(audience, str):
        if re.fullmatch(r"segment:[a-z0-9][a-z0-9_-]{0,63}", audience):
            return []
        return [FieldProblem(path, "expected 'all', 'segment:KEY' or an inline rule")]
    try:
        parse_rule(audience, root=path)
    except InvalidInput as error:
        return list(error.problems)
    return []


def plan_problems(plan: CampaignPlan) -> list[FieldProblem]:
    """Every rule the plan breaks, each with its field path; empty when the plan is sound."""
    problems = []
    if plan.currency not in CURRENCY_DIGITS:
        problems.append(FieldProblem("currency", f"unknown currency {plan.currency!r}"))
    if plan.end_date < plan.start_date:
        problems.append(
            FieldProblem("end_date", f"ends {plan.end_date}, before its start {plan.start_date}")
        )
    problems += _budget_problems(plan)
    problems += _kpi_problems(plan)
    problems += _hypothesis_problems(plan)
    problems += _email_problems(plan)
    for i, channel in enumerate(plan.brief.channels):
        if plan.budget.split and channel not in plan.budget.split:
            problems.append(
                FieldProblem(
                    f"brief.channels[{i}]",
                    f"channel {channel!r} has no line in budget.split (add it, with 0 if free)",
                )
            )
    return problems


def check_plan(plan: CampaignPlan, source: str | None = None) -> CampaignPlan:
    """Return the plan if it is sound; InvalidInput listing every problem otherwise."""
    problems = plan_problems(plan)
    if problems:
        raise InvalidInput(_summary(problems, source), problems, source)
    return plan


def parse_plan(data: Mapping[str, Any] | Any, source: str | None = None) -> CampaignPlan:
    """Validate raw data (from a file or a request) into a sound plan, or raise InvalidInput."""
    try:
        plan = CampaignPlan.model_validate(data)
    except ValidationError as exc:
        problems = problems_from(exc)
        raise InvalidInput(_summary(problems, source), problems, source) from None
    return check_plan(plan, source)


def _summary(problems: list[FieldProblem], source: str | None) -> str:
    where = f"{source}: " if source else ""
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}invalid campaign plan: {first.path}: {first.problem}{more}"
