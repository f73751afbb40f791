"""Scenario files: a simulated market in YAML, checked field by field, read into a Scenario."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Final, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from clarion.audiences.personas import Persona, parse_persona
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.core.validation import problems_from
from clarion.delivery.ad_platform import UnitKey
from clarion.simulate.email_behaviour import EmailParameters
from clarion.simulate.market import Scenario
from clarion.simulate.population import PopulationParameters
from clarion.simulate.response import ResponseCurve
from clarion.simulate.web_behaviour import WebParameters

MAX_FILE_BYTES: Final = 256 * 1024  # a scenario is a page or two; more is a mistake or an attack
MAX_DEPTH: Final = 12  # the deepest a scenario nests is 5 levels; deeper is refused while parsing
FUNNEL: Final = (
    "home_to_product",
    "product_to_pricing",
    "pricing_to_cart",
    "cart_to_checkout",
    "checkout_to_purchase",
)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.:/-]{0,127}$")]
# A chance that the model turns into log-odds, so 0 and 1 themselves are out of reach.
Rate = Annotated[float, Field(gt=0, lt=1)]
Share = Annotated[float, Field(ge=0, le=1)]
Lift = Annotated[float, Field(ge=-10, le=10)]  # log-odds: ±10 turns 50 % into 0.005 % / 99.995 %
Effect = Annotated[float, Field(ge=0, le=20)]
Amount = Annotated[float, Field(gt=0, le=10_000_000)]


def logit(p: float) -> float:
    """Log-odds of a chance in (0, 1)."""
    return math.log(p / (1.0 - p))


def logistic(x: float) -> float:
    """The chance of log-odds ``x``."""
    return 1.0 / (1.0 + math.exp(-x))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class MarketSection(_Strict):
    """Size, length, seed and the campaign's shape (what ``clarion simulate`` options set)."""

    contacts: Annotated[int, Field(strict=True, ge=1, le=1_000_000)] = 2_000
    days: Annotated[int, Field(strict=True, ge=1, le=366)] = 14
    seed: Annotated[int, Field(strict=True, ge=0, le=2**32 - 1)] = 1
    start: date = date(2027, 3, 1)
    send_every: Annotated[int, Field(strict=True, ge=1, le=366)] = 7
    send_hour: Annotated[int, Field(strict=True, ge=0, le=23)] = 9
    variants: Annotated[list[Slug], Field(min_length=1, max_length=26)] = ["a", "b"]
    campaign: Slug = "simulated"
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "EUR"

    @field_validator("variants")
    @classmethod
    def _distinct(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("each variant appears once")
        return values


class HourRange(_Strict):
    """Width of a person's activity window in hours, drawn uniformly between the two."""

    min: Annotated[int, Field(strict=True, ge=1, le=24)] = 3
    max: Annotated[int, Field(strict=True, ge=1, le=24)] = 8

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Activity(_Strict):
    """When people are active: a peak local hour ~ Normal(peak_hour, spread), a window width."""

    peak_hour: Annotated[float, Field(ge=0, lt=24)] = 11.0
    spread: Annotated[float, Field(ge=0, le=12)] = 3.0
    hours: HourRange = Field(default_factory=HourRange)


class Beta(_Strict):
    """A Beta(a, b) distribution of a latent trait in (0, 1)."""

    a: Annotated[float, Field(gt=0, le=1000)]
    b: Annotated[float, Field(gt=0, le=1000)]


class PopulationSection(_Strict):
    """Who the people are beyond their personas (see PopulationParameters)."""

    bad_address_share: Share | None = None
    machine_open_share: Share | None = None  # mailboxes behind a privacy proxy
    email_consent_share: Share | None = None
    activity: Activity | None = None
    interest: Beta | None = None
    price_sensitivity: Beta | None = None


class EmailSection(_Strict):
    """How people answer email; rates are chances, lifts and effects log-odds (EmailParameters)."""

    open_rate: Rate | None = None  # human open, average person, outside their window, rested
    click_rate: Rate | None = None  # click given a human open, average interest, price-blind
    subject_lift: dict[Slug, Lift] | None = None  # on opening, by variant
    content_lift: dict[Slug, Lift] | None = None  # on clicking, by variant
    open_interest: Effect | None = None
    in_window: Lift | None = None
    fatigue: Effect | None = None  # per send in the last 7 days
    click_interest: Effect | None = None
    click_price: Effect | None = None
    unsubscribe_rate: Rate | None = None  # given a human open, rested
    unsubscribe_fatigue: Effect | None = None
    complaint_rate: Share | None = None  # of delivered messages not opened


class Funnel(_Strict):
    """The chance of each next page for an average person (price-blind at pricing → cart)."""

    home_to_product: Rate | None = None
    product_to_pricing: Rate | None = None
    pricing_to_cart: Rate | None = None
    cart_to_checkout: Rate | None = None
    checkout_to_purchase: Rate | None = None


class OrderValue(_Strict):
    """Log-normal order values: median, σ of the log, and how much price sensitivity lowers it."""

    median: Amount | None = None
    sigma: Annotated[float, Field(ge=0, le=3)] | None = None
    price_effect: Annotated[float, Field(ge=0, le=5)] | None = None


class Organic(_Strict):
    """Visits by search, social and direct: daily chance of an average person, × if preferred."""

    daily: Share | None = None
    preferred: Annotated[float, Field(ge=0, le=100)] | None = None


class WebSection(_Strict):
    """How people browse and buy (WebParameters)."""

    funnel: Funnel = Field(default_factory=Funnel)
    step_interest: Effect | None = None
    price_at_pricing: Effect | None = None
    order_value: OrderValue = Field(default_factory=OrderValue)
    organic: Organic = Field(default_factory=Organic)


class PersonaEntry(_Strict):
    """One persona of the market: by key from ``personas_file`` or inline, and its own rates."""

    key: Slug | None = None
    persona: dict[str, Any] | None = None  # a persona definition, as in a personas file
    weight: Annotated[float, Field(gt=0, le=1_000_000)] = 1.0
    open_rate: Rate | None = None
    click_rate: Rate | None = None
    purchase_rate: Rate | None = None  # checkout → purchase
    order_value: Amount | None = None  # median

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.key is None) == (self.persona is None):
            raise ValueError("give either key (from personas_file) or persona (inline)")
        return self


class PaidUnit(_Strict):
    """One ad set on a simulated platform and its true response curve (ResponseCurve)."""

    channel: Slug
    ad_set: Name
    audience: Name | None = None
    top: Annotated[float, Field(gt=0, le=1_000_000)]
    half: Annotated[float, Field(gt=0, le=1_000_000_000)]
    shape: Annotated[float, Field(gt=0, le=1)] = 1.0
    decay: Annotated[float, Field(ge=0, lt=1)] = 0.3
    cpm: Annotated[float, Field(gt=0, le=10_000)] = 8.0
    clicks_per_conversion: Annotated[float, Field(ge=1, le=100_000)] = 25.0
    noise: Annotated[float, Field(ge=0, le=2)] = 0.1


class PaidSection(_Strict):
    """The paid market: the daily budget (split equally) and, optionally, each unit's curve."""

    daily_budget: Annotated[Decimal, Field(ge=0, le=1_000_000_000, allow_inf_nan=False)] = Decimal(
        "600"
    )
    units: Annotated[list[PaidUnit], Field(max_length=200)] | None = None  # None: from the seed

    @field_validator("units")
    @classmethod
    def _distinct(cls, units: list[PaidUnit] | None) -> list[PaidUnit] | None:
        keys = [(u.channel, u.ad_set) for u in units or ()]
        if len(set(keys)) != len(keys):
            raise ValueError("each (channel, ad_set) appears once")
        return units


class Estimate(_Strict):
    """A calibrated number with its 95 % interval and how many observations it rests on."""

    value: float
    low: float
    high: float
    n: Annotated[int, Field(ge=0)]


class CalibrationSection(_Strict):
    """Where a calibrated file's numbers came from; informational, the simulator ignores it."""

    workspace: Name
    at: datetime
    estimates: Annotated[dict[str, Estimate], Field(max_length=2000)] = Field(default_factory=dict)
    notes: Annotated[list[Annotated[str, Field(max_length=500)]], Field(max_length=50)] = Field(
        default_factory=list
    )


class ScenarioFile(_Strict):
    """A whole scenario file."""

    market: MarketSection = Field(default_factory=MarketSection)
    personas_file: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    personas: Annotated[list[PersonaEntry], Field(max_length=50)] = Field(default_factory=list)
    population: PopulationSection = Field(default_factory=PopulationSection)
    email: EmailSection = Field(default_factory=EmailSection)
    web: WebSection = Field(default_factory=WebSection)
    paid: PaidSection = Field(default_factory=PaidSection)
    calibration: CalibrationSection | None = None


class _Loader(yaml.SafeLoader):
    """Safe YAML without aliases (they allow exponential blow-ups) and with a nesting limit."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) are not allowed in scenario files", mark
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.constructor.ConstructorError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _fail(source: str, path: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{source}: {path}: {problem}", [FieldProblem(path, problem)], source)


def read_yaml_text(text: str | bytes, source: str) -> Any:
    """One YAML document, parsed safely; InvalidInput naming the source and what is wrong."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_FILE_BYTES:
        raise _fail(source, "(file)", f"larger than {MAX_FILE_BYTES:,} bytes")
    try:
        decoded = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(source, "(file)", f"not UTF-8 text (byte {exc.start})") from None
    loader = _Loader(decoded)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise _fail(
            source, "(file)", f"malformed YAML{where}: {exc.problem or exc.context}"
        ) from None
    except yaml.YAMLError as exc:
        raise _fail(source, "(file)", f"malformed YAML: {exc}") from None
    finally:
        loader.dispose()


def read_yaml_file(path: Path) -> Any:
    """A YAML file's one document (size checked before reading); InvalidInput on any problem."""
    source = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise _fail(source, "(file)", f"larger than {MAX_FILE_BYTES:,} bytes")
        return read_yaml_text(path.read_bytes(), source)
    except FileNotFoundError:
        raise _fail(source, "(file)", "no such file") from None
    except IsADirectoryError:
        raise _fail(source, "(file)", "is a directory, not a file") from None
    except OSError as exc:
        raise _fail(source, "(file)", str(exc.strerror)) from None


def parse_scenario_file(data: Any, source: str = "scenario") -> ScenarioFile:
    """The file's sections, validated; InvalidInput lists every bad field by its path."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise _fail(source, "(root)", "expected a mapping of sections (market, personas, ...)")
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as error:
        problems = problems_from(error)
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InvalidInput(
            f"{source}: {first.path}: {first.problem}{more}", problems, source
        ) from None


def load_scenario_file(path: Path) -> Scenario:
    """Read a scenario file (and the personas file it names, beside it) into a Scenario."""
    parsed = parse_scenario_file(read_yaml_file(path), str(path))
    library: Sequence[Persona] = ()
    if parsed.personas_file is not None:
        library = _persona_library(path.parent / parsed.personas_file)
    return to_scenario(parsed, library, source=str(path))


def load_scenario_text(
    text: str, source: str = "scenario", personas: Sequence[Persona] = ()
) -> Scenario:
    """A scenario from YAML text; keys are looked up in ``personas`` (no file is opened)."""
    return to_scenario(parse_scenario_file(read_yaml_text(text, source), source), personas, source)


def _persona_library(path: Path) -> list[Persona]:
    data = read_yaml_file(path)
    if isinstance(data, Mapping) and "personas" in data:
        data = data["personas"]
    items = data if isinstance(data, list) else [data]
    return [_persona(item, f"{path.name}:personas[{i}]", str(path)) for i, item in enumerate(items)]


def _persona(data: Any, root: str, source: str) -> Persona:
    try:
        return parse_persona(data, root=root)
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc.message}", exc.problems, source) from None


def to_scenario(parsed: ScenarioFile, library: Sequence[Persona], source: str) -> Scenario:
    """The Scenario a validated file describes; InvalidInput for what only the whole can tell."""
    personas = _personas(parsed, library, source)
    keys = [p.key for p in personas]
    default = Scenario(contacts=1, days=1, seed=0, start=datetime(2027, 3, 1, tzinfo=UTC))
    market = parsed.market
    scenario = Scenario(
        contacts=market.contacts,
        days=market.days,
        seed=market.seed,
        start=datetime.combine(market.start, time(0), tzinfo=UTC),
        personas=tuple(personas) if personas else default.personas,
        send_every=market.send_every,
        send_hour=market.send_hour,
        variants=tuple(market.variants),
        email=_email(parsed, default.email, keys),
        web=_web(parsed, keys),
        paid_daily_budget=parsed.paid.daily_budget,
        campaign_id=market.campaign,
        currency=market.currency,
        weights=tuple(e.weight for e in parsed.personas) if parsed.personas else None,
        population=_population(parsed.population, source),
        paid_curves=_curves(parsed.paid, source),
    )
    problems = scenario.problems()
    if problems:
        first = problems[0]
        raise InvalidInput(f"{source}: market.{first.path}: {first.problem}", problems, source)
    return scenario


def _personas(parsed: ScenarioFile, library: Sequence[Persona], source: str) -> list[Persona]:
    known = {p.key: p for p in library}
    found = []
    for i, entry in enumerate(parsed.personas):
        if entry.persona is not None:
            found.append(_persona(entry.persona, f"personas[{i}].persona", source))
            continue
        assert entry.key is not None  # the entry's validator allows exactly one of the two
        if entry.key not in known:
            where = "personas_file" if parsed.personas_file else "no personas_file is given"
            listed = ", ".join(sorted(known)) or "none"
            raise _fail(
                source, f"personas[{i}].key", f"{entry.key!r} not found ({where}: {listed})"
            )
        found.append(known[entry.key])
    for i, persona in enumerate(found):
        if persona.key in [p.key for p in found[:i]]:
            raise _fail(source, f"personas[{i}]", f"persona {persona.key!r} appears twice")
    return found


def _email(parsed: ScenarioFile, default: EmailParameters, keys: list[str]) -> EmailParameters:
    section, entries = parsed.email, parsed.personas
    open_base = default.open_base if section.open_rate is None else logit(section.open_rate)
    click_base = default.click_base if section.click_rate is None else logit(section.click_rate)
    changes: dict[str, Any] = {
        "open_base": open_base,
        "click_base": click_base,
        "persona_open": {
            k: logit(e.open_rate) - open_base
            for k, e in zip(keys, entries, strict=True)
            if e.open_rate is not None
        },
        "persona_click": {
            k: logit(e.click_rate) - click_base
            for k, e in zip(keys, entries, strict=True)
            if e.click_rate is not None
        },
    }
    named = {
        "subject_open": section.subject_lift,
        "content_click": section.content_lift,
        "open_interest": section.open_interest,
        "in_window": section.in_window,
        "fatigue": section.fatigue,
        "click_interest": section.click_interest,
        "click_price": section.click_price,
        "unsubscribe_fatigue": section.unsubscribe_fatigue,
        "complaint": section.complaint_rate,
    }
    if section.unsubscribe_rate is not None:
        named["unsubscribe_base"] = logit(section.unsubscribe_rate)
    changes.update({name: value for name, value in named.items() if value is not None})
    return replace(default, **changes)


def _web(parsed: ScenarioFile, keys: list[str]) -> WebParameters:
    section, default = parsed.web, WebParameters()
    chances = [getattr(section.funnel, name) for name in FUNNEL]
    step = tuple(
        default.step[k] if chance is None else logit(chance) for k, chance in enumerate(chances)
    )
    named = {
        "step_interest": section.step_interest,
        "price_at_pricing": section.price_at_pricing,
        "order_value": section.order_value.median,
        "order_sigma": section.order_value.sigma,
        "order_price": section.order_value.price_effect,
        "organic_daily": section.organic.daily,
        "organic_preferred": section.organic.preferred,
    }
    entries = parsed.personas
    return replace(
        default,
        step=(step[0], step[1], step[2], step[3], step[4]),
        persona_purchase={
            k: logit(e.purchase_rate) - step[4]
            for k, e in zip(keys, entries, strict=True)
            if e.purchase_rate is not None
        },
        persona_order_value={
            k: e.order_value
            for k, e in zip(keys, entries, strict=True)
            if e.order_value is not None
        },
        **{name: value for name, value in named.items() if value is not None},
    )


def _population(section: PopulationSection, source: str) -> PopulationParameters:
    default = PopulationParameters()
    activity = section.activity or Activity()
    parameters = PopulationParameters(
        bad_address_share=_or(section.bad_address_share, default.bad_address_share),
        email_consent_share=_or(section.email_consent_share, default.email_consent_share),
        privacy_proxy_share=_or(section.machine_open_share, default.privacy_proxy_share),
        interest=(section.interest.a, section.interest.b) if section.interest else default.interest,
        price_sensitivity=(
            (section.price_sensitivity.a, section.price_sensitivity.b)
            if section.price_sensitivity
            else default.price_sensitivity
        ),
        peak_hour=(activity.peak_hour, activity.spread),
        active_hours=(activity.hours.min, activity.hours.max),
    )
    problems = parameters.problems()
    if problems:
        first = problems[0]
        raise InvalidInput(f"{source}: population.{first.path}: {first.problem}", problems, source)
    return parameters


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _curves(section: PaidSection, source: str) -> dict[UnitKey, ResponseCurve] | None:
    if not section.units:
        return None
    curves = {}
    for i, unit in enumerate(section.units):
        try:
            curve = ResponseCurve(
                top=unit.top,
                half=unit.half,
                shape=unit.shape,
                decay=unit.decay,
                cpm=unit.cpm,
                clicks_per_conversion=unit.clicks_per_conversion,
                noise=unit.noise,
            )
        except InvalidInput as exc:  # the field checks above make this a safety net
            first = exc.problems[0]
            raise _fail(source, f"paid.units[{i}].{first.path}", first.problem) from None
        curves[UnitKey(channel=unit.channel, ad_set=unit.ad_set, audience=unit.audience)] = curve
    return curves


__all__: Sequence[str] = (
    "ScenarioFile",
    "load_scenario_file",
    "load_scenario_text",
    "parse_scenario_file",
    "read_yaml_file",
    "read_yaml_text",
    "to_scenario",
)
