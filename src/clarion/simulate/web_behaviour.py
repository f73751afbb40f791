"""How simulated people browse: sessions, the page path to checkout, abandonment, orders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from clarion.core.errors import FieldProblem, InvalidInput
from clarion.simulate.email_behaviour import INTEREST_MEAN, Floats, Indices, logistic
from clarion.simulate.population import CHANNELS, Population

# The path every session walks as far as it goes; "purchase" is the conversion after checkout.
PAGES: Final = ("home", "product", "pricing", "cart", "checkout")
Entry = Literal["click", "search", "social", "direct"]
ENTRIES: Final = ("click", "search", "social", "direct")
# Where each entry lands: a click from a message goes to a product page, the rest to home.
LANDING: Final = {"click": 1, "search": 0, "social": 0, "direct": 0}


@dataclass(frozen=True)
class WebParameters:
    """Log-odds of going one page further, and what an order is worth.

    Going from page k to k+1 (and from checkout to the purchase) has probability
    logistic(step[k] + step_interest·(interest − 2/7)), minus price_at_pricing·price
    sensitivity on the pricing → cart step, plus persona_purchase[persona] on checkout →
    purchase. Order values are log-normal around ``order_value`` (median; a persona's own in
    ``persona_order_value``), lower for price-sensitive people.
    """

    step: tuple[float, float, float, float, float] = (0.4, -0.2, -0.6, 0.2, 0.9)
    step_interest: float = 3.0
    price_at_pricing: float = 1.2
    order_value: float = 120.0
    order_sigma: float = 0.5
    order_price: float = 0.4  # log-value lowered by this × price sensitivity
    organic_daily: float = 0.004  # an average person's chance of an organic visit a day
    organic_preferred: float = 3.0  # × for people who prefer the entry's channel
    persona_purchase: Mapping[str, float] = field(default_factory=dict)  # log-odds, by persona
    persona_order_value: Mapping[str, float] = field(default_factory=dict)  # median, by persona

    def __post_init__(self) -> None:
        medians = (self.order_value, *self.persona_order_value.values())
        if min(medians) <= 0 or self.order_sigma < 0 or not 0 <= self.organic_daily <= 1:
            raise InvalidInput(
                "web parameters: order_value > 0, order_sigma >= 0, organic_daily in [0, 1]",
                [FieldProblem("web", "order_value, order_sigma or organic_daily out of range")],
            )


@dataclass(frozen=True)
class Sessions:
    """One session per person of ``index``: how far each got and what it bought."""

    index: Indices
    entry: str
    landing: int  # position in PAGES of the first page
    reached: npt.NDArray[np.int8]  # last page viewed, a position in PAGES
    purchased: npt.NDArray[np.bool_]
    order_value: Floats  # 0 without a purchase, rounded to cents
    conversion_chance: Floats  # the true chance of a purchase: the ground truth

    def pages(self, position: int) -> list[str]:
        """The page path of session ``position``."""
        return list(PAGES[self.landing : int(self.reached[position]) + 1])


def step_chances(
    population: Population, index: Indices, landing: int, parameters: WebParameters
) -> Floats:
    """Per person (rows) and step from the landing page on (columns), the chance to go on."""
    interest = population.interest[index].astype(float) - INTEREST_MEAN
    odds = np.array(parameters.step, dtype=float)[None, landing:] + (
        parameters.step_interest * interest[:, None]
    )
    pricing_step = PAGES.index("pricing") - landing
    if pricing_step >= 0:
        odds[:, pricing_step] -= parameters.price_at_pricing * population.price_sensitivity[
            index
        ].astype(float)
    purchase = np.array(
        [parameters.persona_purchase.get(k, 0.0) for k in population.persona_keys], dtype=float
    )
    odds[:, -1] += purchase[population.persona[index]]
    return logistic(odds)


def sessions(
    population: Population,
    index: Indices,
    entry: Entry,
    *,
    seed: int,
    batch: int,
    parameters: WebParameters | None = None,
) -> Sessions:
    """Draw one session for each person of ``index`` arriving by ``entry`` (seeded, pure)."""
    parameters = parameters or WebParameters()
    if entry not in LANDING:
        raise InvalidInput(
            f"unknown entry {entry!r}", [FieldProblem("entry", f"one of {', '.join(ENTRIES)}")]
        )
    landing = LANDING[entry]
    chances = step_chances(population, index, landing, parameters)
    rng = np.random.default_rng([seed, 5, ENTRIES.index(entry), batch])
    onward = rng.random(chances.shape) < chances
    steps = np.cumprod(onward, axis=1).sum(axis=1)  # steps taken before the first stop
    last = len(PAGES) - 1
    purchased = steps == chances.shape[1]
    reached = np.minimum(landing + steps, last).astype(np.int8)
    medians = np.array(
        [
            parameters.persona_order_value.get(k, parameters.order_value)
            for k in population.persona_keys
        ]
    )
    log_value = np.log(medians[population.persona[index]]) - parameters.order_price * (
        population.price_sensitivity[index].astype(float)
    )
    values = np.round(np.exp(rng.normal(log_value, parameters.order_sigma)), 2)
    return Sessions(
        index=index,
        entry=entry,
        landing=landing,
        reached=reached,
        purchased=purchased,
        order_value=np.where(purchased, values, 0.0),
        conversion_chance=np.prod(chances, axis=1),
    )


def organic_visitors(
    population: Population,
    entry: Entry,
    *,
    seed: int,
    day: int,
    parameters: WebParameters | None = None,
) -> Indices:
    """The people who visit by search, social or direct on simulated ``day`` (seeded, pure)."""
    parameters = parameters or WebParameters()
    if entry == "click":
        raise InvalidInput(
            "organic visits come by search, social or direct",
            [FieldProblem("entry", "one of search, social, direct")],
        )
    chance = parameters.organic_daily * (population.interest / INTEREST_MEAN)
    if entry in CHANNELS:
        chance = np.where(
            population.prefers[:, CHANNELS.index(entry)],
            chance * parameters.organic_preferred,
            chance,
        )
    rng = np.random.default_rng([seed, 6, ENTRIES.index(entry), day])
    visitors: Indices = np.flatnonzero(rng.random(population.size) < np.minimum(chance, 1.0))
    return visitors
