"""Calibration: the behaviour parameters a workspace's history implies, as a scenario file.

Each rate is measured with its 95 % interval, then turned into the simulator's parameter by
inverting the behaviour model over a reference population (the model is monotone in the
parameter, so the interval's ends map to the parameter's interval): what the simulator would
measure with the calibrated parameter is what the workspace measured.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import yaml

from clarion.audiences.personas import Persona
from clarion.simulate.email_behaviour import EmailParameters, email_truth
from clarion.simulate.history import (
    Moments,
    Orders,
    Sends,
    UnitDays,
    read_moments,
    read_orders,
    read_people,
    read_sends,
    read_unit_days,
)
from clarion.simulate.market import Scenario
from clarion.simulate.population import ZONES, Population, generate_population
from clarion.simulate.scenario_file import FUNNEL, logistic
from clarion.simulate.web_behaviour import WebParameters, step_chances
from clarion.stats.response_curves import ResponsePrior, fit_response
from clarion.stats.wilson import wilson_interval
from clarion.stores.events import EventStore

REFERENCE_PEOPLE: Final = 20_000  # the population the model is averaged over
REFERENCE_SEED: Final = 20_261_123
MIN_TRIALS: Final = 30  # fewer sends (or opens, clicks) than this: the file-wide rate is kept
MIN_ORDERS: Final = 5
MIN_MOMENTS: Final = 30
PAID_DRAWS: Final = 4000
BOUND: Final = 12.0  # log-odds searched: chances from 6e-6 to 1 - 6e-6
Z95: Final = 1.959964
SLUG: Final = re.compile(r"[^a-z0-9_-]+")
NAME: Final = re.compile(r"[^A-Za-z0-9 _.:/-]+")
Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Estimate:
    """A calibrated parameter with its 95 % interval and the observations behind it."""

    value: float
    low: float
    high: float
    n: int

    def as_data(self) -> dict[str, Any]:
        """As the scenario file's ``calibration.estimates`` holds it."""
        return {
            "value": _round(self.value),
            "low": _round(self.low),
            "high": _round(self.high),
            "n": self.n,
        }


@dataclass(frozen=True)
class Calibration:
    """A scenario file's data fitted from history, each estimate, and what was left as assumed."""

    data: dict[str, Any]
    estimates: dict[str, Estimate]
    notes: tuple[str, ...]

    def to_yaml(self) -> str:
        """The scenario file's text."""
        head = (
            "# Calibrated from a workspace's history: clarion simulate --scenario THIS_FILE\n"
            "# calibration.estimates holds each fitted value with its 95% interval.\n"
        )
        return head + yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, width=100)


@dataclass(frozen=True)
class _Group:
    """Sends of one persona that share a send hour, a fatigue count and a variant, counted."""

    hour: float
    recent: int
    variant: str
    count: float


def calibrate(
    events: EventStore,
    workspace_id: str,
    *,
    now: datetime,
    workspace: str = "default",
    personas: Sequence[Persona] = (),
    base: Scenario | None = None,
    fit_activity: bool = True,
) -> Calibration:
    """Fit the scenario of ``workspace_id`` from its events, sends, contacts and spend.

    ``base`` holds what calibration does not fit (the model's structure: interest and price
    effects, the in-window and fatigue effects, variant lifts, the funnel up to checkout,
    the market's length and seed); stored ``personas`` give the definitions of the keys the
    contacts carry. ``fit_activity`` False keeps the base's activity hours.
    """
    base = base or Scenario(contacts=2_000, days=14, seed=1, start=now)
    notes: list[str] = []
    estimates: dict[str, Estimate] = {}
    people = read_people(events, workspace_id)
    sends = read_sends(events, workspace_id)
    keys = [k for k, n in people.per_persona.items() if n > 0] or ["everyone"]
    known = {p.key: p for p in personas}
    definitions = [
        known.get(k) or _persona(k, i, people.countries.get(k, [])) for i, k in enumerate(keys)
    ]
    weights = [float(max(people.per_persona.get(k, 0), 1)) for k in keys]

    population = base.population
    delivered = ~sends.bounced
    proxy = sends.machine & delivered
    if sends.size:
        share = _ratio(proxy, delivered, sends.contact)
        estimates["population.machine_open_share"] = share
        mailed = np.unique(sends.contact)
        bounced_people = np.unique(sends.contact[sends.bounced])
        estimates["population.bad_address_share"] = _wilson(bounced_people.size, mailed.size)
        population = replace(
            population,
            privacy_proxy_share=share.value,
            bad_address_share=estimates["population.bad_address_share"].value,
        )
    if fit_activity:
        peak = _peak_hour(read_moments(events, workspace_id))
        if peak is None:
            notes.append(f"activity hours assumed: fewer than {MIN_MOMENTS} human opens/clicks")
        else:
            estimates["population.activity.peak_hour"] = peak
            population = replace(population, peak_hour=(peak.value, population.peak_hour[1]))
    else:
        notes.append("activity hours assumed, not fitted")

    reference = generate_population(
        definitions, REFERENCE_PEOPLE, REFERENCE_SEED, weights=weights, parameters=population
    )
    fitter = _Fitter(reference, keys, sends, base.email, base.web)
    persona_data: list[dict[str, Any]] = []
    for which, key in enumerate(keys):
        entry: dict[str, Any] = {
            "persona": definitions[which].model_dump(mode="json", exclude_defaults=True),
            "weight": weights[which],
        }
        entry.update(fitter.persona(which, key, estimates, notes))
        persona_data.append(entry)
    email = fitter.pooled(estimates)
    orders = fitter.order_values(read_orders(events, workspace_id), keys, estimates, persona_data)
    paid = _paid(read_unit_days(events, workspace_id), estimates, notes)
    data = _scenario_data(
        base,
        sends=sends,
        per_persona=people.per_persona,
        personas=persona_data,
        population=population,
        email=email,
        orders=orders,
    )
    if paid is not None:
        data["paid"] = paid
    data["calibration"] = {
        "workspace": _name(workspace),
        "at": now.isoformat(),
        "estimates": {name: e.as_data() for name, e in estimates.items()},
        "notes": notes,
    }
    return Calibration(data=data, estimates=estimates, notes=tuple(notes))


class _Fitter:
    """Inverts the email and web models over the reference population, persona by persona."""

    def __init__(
        self,
        reference: Population,
        keys: list[str],
        sends: Sends,
        email: EmailParameters,
        web: WebParameters,
    ) -> None:
        self.reference = reference
        self.keys = keys  # as the contacts carry them, in the reference population's order
        self.sends = sends
        self.email = replace(email, persona_open={}, persona_click={})
        self.web = replace(web, persona_purchase={})
        self.recent = sends.recent()
        self.delivered = ~sends.bounced
        self.visible = self.delivered & ~sends.machine
        self.fitted_open: dict[int, float] = {}  # persona index → open log-odds
        self.fitted_click: dict[int, float] = {}
        self.fitted_purchase: dict[int, float] = {}

    def persona(
        self, which: int, key: str, estimates: dict[str, Estimate], notes: list[str]
    ) -> dict[str, Any]:
        """The persona's own open, click and purchase rates (those with enough data)."""
        mine = np.array([p == key for p in self.sends.persona], dtype=bool)
        people = np.flatnonzero(self.reference.persona == which)
        out: dict[str, Any] = {}
        seen = mine & self.visible
        if int(seen.sum()) < MIN_TRIALS:
            notes.append(f"{key}: fewer than {MIN_TRIALS} delivered sends, file-wide rates kept")
            return out
        opens = int((seen & self.sends.opened).sum())
        contact = self.sends.contact
        measured = _ratio(self.sends.opened, seen, contact)
        groups = self._groups(seen)
        estimate = self._solve(measured, lambda x: self._open_rate(people, groups, x))
        self.fitted_open[which] = math.log(estimate.value / (1 - estimate.value))
        estimates[f"personas.{key}.open_rate"] = estimate
        out["open_rate"] = _round(estimate.value)
        if opens < MIN_TRIALS:
            return out
        x_open = self.fitted_open[which]
        estimate = self._solve(
            _ratio(self.sends.clicked, seen & self.sends.opened, contact),
            lambda x: self._click_rate(people, groups, x_open, x),
        )
        self.fitted_click[which] = math.log(estimate.value / (1 - estimate.value))
        estimates[f"personas.{key}.click_rate"] = estimate
        out["click_rate"] = _round(estimate.value)
        clicked = mine & self.delivered & self.sends.clicked
        if int(clicked.sum()) < MIN_ORDERS:
            return out
        x_click = self.fitted_click[which]
        clickers = self._clickers(people, self._groups(mine & self.delivered), x_open, x_click)
        estimate = self._solve(
            _ratio(self.sends.converted, clicked, contact), self._purchase_rate(people, clickers)
        )
        self.fitted_purchase[which] = math.log(estimate.value / (1 - estimate.value))
        estimates[f"personas.{key}.purchase_rate"] = estimate
        out["purchase_rate"] = _round(estimate.value)
        return out

    def pooled(self, estimates: dict[str, Estimate]) -> dict[str, Any]:
        """File-wide email rates over every send, for personas without enough data of their own:
        open and click rates (as if personas did not differ), unsubscribes and complaints."""
        out: dict[str, Any] = {}
        everyone = np.arange(self.reference.size, dtype=np.int64)
        contact, opened = self.sends.contact, self.visible & self.sends.opened
        if int(self.visible.sum()) >= MIN_TRIALS:
            groups = self._groups(self.visible)
            estimate = self._solve(
                _ratio(self.sends.opened, self.visible, contact),
                lambda x: self._open_rate(everyone, groups, x),
            )
            estimates["email.open_rate"] = estimate
            out["open_rate"] = _round(estimate.value)
            if int(opened.sum()) >= MIN_TRIALS:
                x_open = math.log(estimate.value / (1 - estimate.value))
                estimate = self._solve(
                    _ratio(self.sends.clicked, opened, contact),
                    lambda x: self._click_rate(everyone, groups, x_open, x),
                )
                estimates["email.click_rate"] = estimate
                out["click_rate"] = _round(estimate.value)
        if int(opened.sum()) >= MIN_TRIALS:
            fatigue = self.email.unsubscribe_fatigue
            recent = self.recent[opened].astype(float)

            def rate(x: float) -> float:
                return float(np.mean(1.0 / (1.0 + np.exp(-(x + fatigue * recent)))))

            measured = _ratio(self.sends.unsubscribed, opened, self.sends.contact)
            estimate = self._solve(measured, rate)
            estimates["email.unsubscribe_rate"] = estimate
            out["unsubscribe_rate"] = _round(estimate.value)
        unopened = self.visible & ~self.sends.opened
        if int(unopened.sum()) >= MIN_TRIALS:
            complaints = _ratio(self.sends.complained, unopened, self.sends.contact)
            estimates["email.complaint_rate"] = complaints
            out["complaint_rate"] = _round(complaints.value)
        return out

    def order_values(
        self,
        orders: Orders,
        keys: list[str],
        estimates: dict[str, Estimate],
        persona_data: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """Median order value per persona and file-wide, corrected for who buys.

        Buyers are less price-sensitive than people at large, and price sensitivity lowers
        the order value: the median is taken back to a person of sensitivity 0, as the model
        defines it, using the sensitivity of the reference population's likely buyers.
        """
        out: dict[str, Any] = {}
        logs = np.log(np.maximum(orders.value, 0.01))
        everyone = np.zeros(orders.value.shape, dtype=bool)
        spread: list[float] = []
        for which, key in enumerate(keys):
            mine = np.array([p == key for p in orders.persona], dtype=bool)
            everyone |= mine
            if int(mine.sum()) < MIN_ORDERS:
                continue
            shift, variance = self._buyer_price(which)
            estimate = _median(logs[mine], shift)
            estimates[f"personas.{key}.order_value"] = estimate
            persona_data[which]["order_value"] = _clip(estimate.value, 0.01, 1e7)
            spread.append(max(float(np.var(logs[mine], ddof=1)) - variance, 0.0))
        if int(everyone.sum()) >= MIN_ORDERS:
            shifts = [self._buyer_price(w)[0] for w in range(len(keys))]
            estimate = _median(logs[everyone], float(np.mean(shifts)))
            estimates["web.order_value.median"] = estimate
            out["median"] = _clip(estimate.value, 0.01, 1e7)
            if spread:
                out["sigma"] = _clip(math.sqrt(float(np.mean(spread))), 0.0, 3.0)
        return out

    def _buyer_price(self, which: int) -> tuple[float, float]:
        """(order_price × mean, order_price² × variance) of the sensitivity of likely buyers."""
        people = np.flatnonzero(self.reference.persona == which)
        price = self.reference.price_sensitivity[people].astype(float)
        mine = np.array([p == self.keys[which] for p in self.sends.persona], dtype=bool)
        groups = self._groups(mine & self.delivered)
        if not groups or which not in self.fitted_click:
            return self.web.order_price * float(price.mean()), 0.0
        clickers = self._clickers(people, groups, self.fitted_open[which], self.fitted_click[which])
        weight = clickers * self._buy(people, self.fitted_purchase.get(which, self.web.step[4]))
        mean = float(np.average(price, weights=weight))
        variance = float(np.average((price - mean) ** 2, weights=weight))
        return self.web.order_price * mean, self.web.order_price**2 * variance

    def _groups(self, rows: npt.NDArray[np.bool_]) -> list[_Group]:
        hours = np.round(self.sends.utc_hour[rows] * 4.0) / 4.0
        recent = self.recent[rows]
        variants = [v for v, keep in zip(self.sends.variant, rows, strict=True) if keep]
        counted: dict[tuple[float, int, str], float] = {}
        for hour, count, variant in zip(hours.tolist(), recent.tolist(), variants, strict=True):
            counted[(hour, count, variant)] = counted.get((hour, count, variant), 0.0) + 1.0
        return [_Group(h, r, v, n) for (h, r, v), n in sorted(counted.items())]

    def _open_click(
        self, people: npt.NDArray[np.int64], group: _Group, x_open: float, x_click: float
    ) -> tuple[Floats, Floats]:
        parameters = replace(self.email, open_base=x_open, click_base=x_click)
        truth = email_truth(
            self.reference,
            people,
            variant=group.variant,
            utc_hour=group.hour,
            recent_sends=np.full(people.size, group.recent, dtype=np.int64),
            parameters=parameters,
        )
        return truth.open, truth.click

    def _buy(self, people: npt.NDArray[np.int64], x_purchase: float) -> Floats:
        step = (*self.web.step[:4], x_purchase)
        parameters = replace(self.web, step=step)
        out: Floats = np.prod(step_chances(self.reference, people, 1, parameters), axis=1)
        return out

    def _open_rate(self, people: npt.NDArray[np.int64], groups: list[_Group], x: float) -> float:
        total = sum(g.count for g in groups)
        opens = sum(g.count * float(self._open_click(people, g, x, 0.0)[0].mean()) for g in groups)
        return opens / total

    def _click_rate(
        self, people: npt.NDArray[np.int64], groups: list[_Group], x_open: float, x: float
    ) -> float:
        clicks = opens = 0.0
        for group in groups:
            o, c = self._open_click(people, group, x_open, x)
            clicks += group.count * float((o * c).mean())
            opens += group.count * float(o.mean())
        return clicks / opens

    def _purchase_rate(
        self, people: npt.NDArray[np.int64], clickers: Floats
    ) -> Callable[[float], float]:
        """The chance of a purchase after a click, as a function of the purchase log-odds.

        ``clickers`` weighs each reference person by their expected clicks on the sends.
        """

        def rate(x: float) -> float:
            return float((clickers * self._buy(people, x)).sum() / clickers.sum())

        return rate

    def _clickers(
        self, people: npt.NDArray[np.int64], groups: list[_Group], x_open: float, x_click: float
    ) -> Floats:
        weight = np.zeros(people.size)
        for group in groups:
            o, c = self._open_click(people, group, x_open, x_click)
            weight += group.count * o * c
        return weight

    @staticmethod
    def _solve(measured: Estimate, rate: Callable[[float], float]) -> Estimate:
        """The parameter (as a chance) whose modelled rate is the measured one, and its ends."""

        def invert(target: float) -> float:
            low, high = -BOUND, BOUND
            for _ in range(50):
                middle = 0.5 * (low + high)
                low, high = (middle, high) if rate(middle) < target else (low, middle)
            return logistic(0.5 * (low + high))

        return Estimate(
            value=invert(measured.value),
            low=invert(measured.low),
            high=invert(measured.high),
            n=measured.n,
        )


def _ratio(hits: Flags, trials: Flags, contact: npt.NDArray[np.int64]) -> Estimate:
    """Σ hits / Σ trials over sends, with a Wilson interval widened for sends per contact.

    Sends to one contact are alike (the same person, the same mailbox), so n sends are worth
    fewer independent trials: the design effect, the clustered variance of the ratio over its
    binomial variance, divides both counts before the Wilson interval is taken.
    """
    n, y = int(trials.sum()), int((hits & trials).sum())
    if n == 0 or y in (0, n):
        return _wilson(y, n)
    rate = y / n
    per_hit = np.bincount(contact[trials], weights=hits[trials].astype(float))
    per_trial = np.bincount(contact[trials]).astype(float)
    used = per_trial > 0
    clusters = int(used.sum())
    residual = per_hit[used] - rate * per_trial[used]
    clustered = clusters / max(clusters - 1, 1) * float((residual**2).sum()) / n**2
    effect = max(clustered / (rate * (1 - rate) / n), 1.0)
    interval = wilson_interval(round(y / effect), max(round(n / effect), 1))
    assert interval is not None
    return Estimate(rate, interval[1], interval[2], n)


def _wilson(successes: int, trials: int) -> Estimate:
    interval = wilson_interval(successes, trials)
    if interval is None:
        return Estimate(0.0, 0.0, 1.0, trials)
    return Estimate(interval[0], interval[1], interval[2], trials)


def _median(logs: Floats, shift: float) -> Estimate:
    """exp(mean log value + shift) with a t-like 95 % interval on the mean of the logs."""
    n = int(logs.size)
    mean = float(logs.mean())
    half = Z95 * float(logs.std(ddof=1)) / math.sqrt(n)
    return Estimate(
        math.exp(mean + shift), math.exp(mean - half + shift), math.exp(mean + half + shift), n
    )


def _peak_hour(moments: Moments) -> Estimate | None:
    """The circular mean of the local hours people open and click at, with its interval."""
    offsets = np.array(
        [ZONES.get(c or "", (math.nan, ""))[0] for c in moments.country], dtype=float
    )
    known = np.isfinite(offsets)
    if int(known.sum()) < MIN_MOMENTS:
        return None
    local = np.mod(moments.at[known] / 3600.0 + offsets[known], 24.0)
    angle = local / 24.0 * 2.0 * math.pi
    c, s = float(np.cos(angle).mean()), float(np.sin(angle).mean())
    length = math.hypot(c, s)
    mean = math.atan2(s, c) % (2 * math.pi) / (2 * math.pi) * 24.0
    spread = math.sqrt(max(-2.0 * math.log(max(length, 1e-12)), 0.0)) / (2 * math.pi) * 24.0
    half = Z95 * spread / math.sqrt(int(known.sum()))
    return Estimate(round(mean, 2) % 24.0, mean - half, mean + half, int(known.sum()))


def _paid(
    units: list[UnitDays], estimates: dict[str, Estimate], notes: list[str]
) -> dict[str, Any] | None:
    """Each unit's response curve from its spend and conversions, and the daily budget."""
    if not units:
        notes.append("no ad spend: the paid market is drawn from the seed")
        return None
    rng = np.random.default_rng(REFERENCE_SEED)
    out, budget = [], 0.0
    for unit in units:
        spent = unit.spend[unit.spend > 0]
        if spent.size == 0:
            continue
        reference = float(spent.mean())
        rate = max(float(unit.conversions.sum()), 0.5) / float(unit.spend.sum())
        posterior = fit_response(
            unit.spend, unit.conversions, ResponsePrior(reference, rate * reference)
        )
        a, s, k = posterior.draw(rng, PAID_DRAWS)
        at_reference = a / (1.0 + (s / reference) ** k)
        # Spend that barely varied pins the level, not the shape: take the middle of what the
        # posterior allows for the shape, and the top that gives the level at the spend seen.
        half = _weighted_median(posterior.scales, posterior.weights)
        shape = _weighted_median(posterior.shapes, posterior.weights)
        decay = _weighted_median(posterior.carryovers, posterior.weights)
        top = float(at_reference.mean()) * (1.0 + (half / reference) ** shape)
        name = f"paid.{_slug(unit.channel)}.{_name(unit.ad_set or unit.channel)}"
        low, high = np.quantile(at_reference, [0.025, 0.975])
        estimates[f"{name}.conversions_per_day"] = Estimate(
            float(at_reference.mean()), float(low), float(high), int(unit.spend.size)
        )
        conversions = float(unit.conversions.sum())
        out.append(
            {
                "channel": _slug(unit.channel),
                "ad_set": _name(unit.ad_set or unit.channel),
                **({"audience": _name(unit.audience)} if unit.audience else {}),
                "top": _clip(top, 1e-6, 1e6),
                "half": _clip(half / (1.0 - decay), 1e-6, 1e9),  # the simulator's adstock: unscaled
                "shape": shape,
                "decay": decay,
                "cpm": _clip(
                    1000.0 * float(unit.spend.sum()) / max(unit.impressions, 1), 0.01, 1e4
                ),
                "clicks_per_conversion": _round(
                    min(max(unit.clicks / conversions, 1.0), 100_000.0) if conversions else 25.0
                ),
            }
        )
        budget += reference
    return {"daily_budget": round(min(budget, 1e9), 2), "units": out} if out else None


def _weighted_median(values: Floats, weights: Floats) -> float:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def _scenario_data(
    base: Scenario,
    *,
    sends: Sends,
    per_persona: dict[str, int],
    personas: list[dict[str, Any]],
    population: Any,
    email: dict[str, Any],
    orders: dict[str, Any],
) -> dict[str, Any]:
    hours = np.floor(sends.utc_hour).astype(int) if sends.size else np.array([base.send_hour])
    variants = list(dict.fromkeys(v for v in sends.variant if v)) or list(base.variants)
    b = base.email
    web = base.web
    return {
        "market": {
            "contacts": min(max(sum(per_persona.values()), 1), 1_000_000),
            "days": base.days,
            "seed": base.seed,
            "start": base.start.date().isoformat(),
            "send_every": base.send_every,
            "send_hour": int(np.bincount(hours, minlength=24).argmax()),
            "variants": [_slug(v) for v in variants[:26]],
            "campaign": base.campaign_id,
            "currency": base.currency,
        },
        "personas": personas,
        "population": {
            "bad_address_share": _round(population.bad_address_share),
            "machine_open_share": _round(population.privacy_proxy_share),
            "email_consent_share": population.email_consent_share,
            "activity": {
                "peak_hour": _round(population.peak_hour[0]),
                "spread": population.peak_hour[1],
                "hours": {"min": population.active_hours[0], "max": population.active_hours[1]},
            },
            "interest": {"a": population.interest[0], "b": population.interest[1]},
            "price_sensitivity": {
                "a": population.price_sensitivity[0],
                "b": population.price_sensitivity[1],
            },
        },
        "email": {
            "open_rate": _round(logistic(b.open_base)),
            "click_rate": _round(logistic(b.click_base)),
            "subject_lift": dict(b.subject_open),
            "content_lift": dict(b.content_click),
            "open_interest": b.open_interest,
            "in_window": b.in_window,
            "fatigue": b.fatigue,
            "click_interest": b.click_interest,
            "click_price": b.click_price,
            "unsubscribe_rate": _round(logistic(b.unsubscribe_base)),
            "unsubscribe_fatigue": b.unsubscribe_fatigue,
            "complaint_rate": b.complaint,
            **email,
        },
        "web": {
            "funnel": {name: _round(logistic(x)) for name, x in zip(FUNNEL, web.step, strict=True)},
            "step_interest": web.step_interest,
            "price_at_pricing": web.price_at_pricing,
            "order_value": {
                "median": web.order_value,
                "sigma": web.order_sigma,
                "price_effect": web.order_price,
                **orders,
            },
            "organic": {"daily": web.organic_daily, "preferred": web.organic_preferred},
        },
    }


def _persona(key: str, position: int, countries: list[str]) -> Persona:
    """A persona known only by the key its contacts carry, living where they live."""
    regions = [c for c in countries if re.fullmatch(r"[A-Z]{2}", c)][:100]
    safe = key if re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", key) else f"persona-{position}"
    return Persona.model_validate(
        {"key": safe, "label": _name(key), "demographics": {"regions": regions}}
    )


def _slug(text: str) -> str:
    slug = SLUG.sub("-", text.lower()).strip("-_")[:64]
    return slug or "unnamed"


def _name(text: str) -> str:
    name = NAME.sub("-", text).strip(" -_.:/")[:128]
    return name or "unnamed"


def _clip(value: float, low: float, high: float) -> float:
    """Within the bounds a scenario file accepts (a history can hold absurd numbers)."""
    return _round(min(max(value, low), high))


def _round(value: float) -> float:
    return float(f"{value:.6g}")


__all__: Sequence[str] = ("Calibration", "Estimate", "calibrate")
