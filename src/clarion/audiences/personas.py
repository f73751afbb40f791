"""Buyer personas: the persona template as structured fields (ranges, lists, enums), not prose."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from clarion.core.errors import FieldProblem, InvalidInput
from clarion.core.validation import problems_from


def _printable(value: str) -> str:
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters")
    return value


Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
# Content asset keys as the content library names them (a slug, optionally with a path).
AssetKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_./-]{0,127}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_printable)]
Item = Annotated[str, StringConstraints(min_length=1, max_length=300), AfterValidator(_printable)]
Items = Annotated[list[Item], Field(max_length=20)]

JourneyStage = Literal["awareness", "consideration", "decision", "retention", "advocacy"]
Channel = Literal[
    "email", "sms", "push", "web", "search", "social", "display", "video", "events", "phone", "post"
]
ContentFormat = Literal[
    "article",
    "case_study",
    "whitepaper",
    "ebook",
    "video",
    "webinar",
    "podcast",
    "infographic",
    "newsletter",
    "demo",
    "checklist",
]
Tone = Literal["formal", "friendly", "technical", "playful", "authoritative", "empathetic"]
Seniority = Literal["entry", "mid", "senior", "manager", "director", "executive"]
JOURNEY_ORDER: Final = ("awareness", "consideration", "decision", "retention", "advocacy")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Range(_Strict):
    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class AgeRange(_Range):
    """Ages in years, both ends included."""

    min: Annotated[int, Field(strict=True, ge=13, le=120)]
    max: Annotated[int, Field(strict=True, ge=13, le=120)]


class CompanySize(_Range):
    """Employees of the company the persona works for, both ends included."""

    min: Annotated[int, Field(strict=True, ge=1, le=10_000_000)]
    max: Annotated[int, Field(strict=True, ge=1, le=10_000_000)]


class DayRange(_Range):
    """A duration in days, both ends included."""

    min: Annotated[int, Field(strict=True, ge=0, le=3650)]
    max: Annotated[int, Field(strict=True, ge=0, le=3650)]


class Demographics(_Strict):
    """Who the persona is: age, job, seniority, company size, industries, where they live."""

    age: AgeRange | None = None
    job_titles: Items = Field(default_factory=list)
    seniority: list[Seniority] = Field(default_factory=list, max_length=6)
    company_size: CompanySize | None = None
    industries: Items = Field(default_factory=list)
    # ISO 3166-1 alpha-2 countries, or ISO 3166-2 subdivisions (FR-IDF)
    regions: Annotated[
        list[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]],
        Field(max_length=100),
    ] = Field(default_factory=list)


class Stage(_Strict):
    """A stage of the persona's buying journey: how long it typically lasts and what moves it."""

    stage: JourneyStage
    typical_days: DayRange | None = None
    questions: Items = Field(default_factory=list)


class ContentPreferences(_Strict):
    """What the persona likes to read or watch, in preference order, and in which tone."""

    formats: list[ContentFormat] = Field(default_factory=list, max_length=11)
    tone: list[Tone] = Field(default_factory=list, max_length=6)


class Criterion(_Strict):
    """A purchase criterion and its weight in the decision (weights need not sum to 1)."""

    name: Label
    weight: Annotated[float, Field(ge=0, le=1)] = 1.0


class Persona(_Strict):
    """A buyer persona: the template's fields, its segment and the content made for it."""

    key: Key
    label: Label
    segment: Key | None = None  # the stored segment that finds its members
    demographics: Demographics = Field(default_factory=Demographics)
    goals: Items = Field(default_factory=list)
    pain_points: Items = Field(default_factory=list)
    triggers: Items = Field(default_factory=list)
    journey: Annotated[list[Stage], Field(max_length=5)] = Field(default_factory=list)
    timeline_days: DayRange | None = None  # first touch to purchase, typically
    channels: Annotated[list[Channel], Field(max_length=11)] = Field(default_factory=list)
    content_preferences: ContentPreferences = Field(default_factory=ContentPreferences)
    purchase_criteria: Annotated[list[Criterion], Field(max_length=20)] = Field(
        default_factory=list
    )
    key_messages: Items = Field(default_factory=list)
    content: Annotated[list[AssetKey], Field(max_length=200)] = Field(default_factory=list)

    @field_validator("journey")
    @classmethod
    def _in_order(cls, journey: list[Stage]) -> list[Stage]:
        stages = [s.stage for s in journey]
        if len(set(stages)) != len(stages):
            raise ValueError("each stage appears once")
        if stages != sorted(stages, key=JOURNEY_ORDER.index):
            raise ValueError(f"stages go in the order {', '.join(JOURNEY_ORDER)}")
        return journey

    @field_validator("channels", "content")
    @classmethod
    def _distinct(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("each value appears once")
        return values

    def profile(self) -> dict[str, Any]:
        """The fields stored as the persona's profile (all but key, label, segment, content)."""
        return self.model_dump(mode="json", exclude={"key", "label", "segment", "content"})


def parse_persona(data: Any, *, root: str = "") -> Persona:
    """A persona from parsed JSON/YAML; InvalidInput naming each bad field's path."""
    if not isinstance(data, Mapping):
        problem = "expected a mapping of persona fields (key, label, demographics, ...)"
        raise InvalidInput(
            f"{root or 'persona'}: {problem}", [FieldProblem(root or "(root)", problem)]
        )
    try:
        return Persona.model_validate(data)
    except ValidationError as error:
        problems = [FieldProblem(_at(root, p.path), p.problem) for p in problems_from(error)]
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InvalidInput(
            f"persona rejected: {first.path}: {first.problem}{more}", problems
        ) from None


def _at(root: str, path: str) -> str:
    if path in ("", "(root)"):
        return root or "(root)"
    if not root:
        return path
    return f"{root}{path}" if path.startswith("[") else f"{root}.{path}"
