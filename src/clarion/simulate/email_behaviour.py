"""How simulated people answer an email: bounce, machine and human opens, clicks, opt-outs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from clarion.core.errors import FieldProblem, InvalidInput
from clarion.simulate.population import GOOD, Population

Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]
Indices = npt.NDArray[np.int64]
INTEREST_MEAN: Final = 2.0 / 7.0  # the default population's mean interest: effects centre on it


def logistic(x: Floats) -> Floats:
    """The logistic function, elementwise."""
    out: Floats = 1.0 / (1.0 + np.exp(-x))
    return out


@dataclass(frozen=True)
class EmailParameters:
    """Log-odds effects on opening and clicking; rates are per delivered message.

    ``open`` = logistic(open_base + persona_open[persona] + subject_open[variant]
    + open_interest·(interest − 2/7) + in_window·[hour in activity window]
    − fatigue·sends in the last 7 days). ``click`` (given a human open) = logistic(click_base
    + persona_click[persona] + content_click[variant] + click_interest·(interest − 2/7)
    − click_price·price sensitivity).
    """

    open_base: float = -1.2  # ≈ 23 % for an average person outside their window
    persona_open: Mapping[str, float] = field(default_factory=dict)
    subject_open: Mapping[str, float] = field(default_factory=dict)  # by variant key
    open_interest: float = 3.0
    in_window: float = 0.6
    fatigue: float = 0.15  # per send in the last 7 days
    click_base: float = -1.6  # ≈ 17 % of human opens
    persona_click: Mapping[str, float] = field(default_factory=dict)
    content_click: Mapping[str, float] = field(default_factory=dict)  # by variant key
    click_interest: float = 4.0
    click_price: float = 0.8
    unsubscribe_base: float = -5.0  # ≈ 0.7 % of human opens
    unsubscribe_fatigue: float = 0.35  # per send in the last 7 days
    complaint: float = 0.0008  # of delivered messages

    def __post_init__(self) -> None:
        if not 0 <= self.complaint <= 1:
            raise InvalidInput(
                "email parameters: complaint must be in [0, 1]",
                [FieldProblem("complaint", "must be in [0, 1]")],
            )


@dataclass(frozen=True)
class EmailTruth:
    """Each mailed person's true chances: what the measured rates should converge to."""

    open: Floats  # human open, given delivered
    click: Floats  # click, given a human open
    unsubscribe: Floats  # given a human open


@dataclass(frozen=True)
class EmailOutcomes:
    """What happened to one send per person of ``index`` (arrays aligned with it)."""

    index: Indices
    bounce: npt.NDArray[np.int8]  # GOOD (delivered), HARD_BOUNCE, SOFT_BOUNCE
    machine_open: Flags  # a privacy proxy fetched the pixel
    human_open: Flags
    click: Flags
    unsubscribe: Flags
    complaint: Flags
    truth: EmailTruth

    @property
    def delivered(self) -> Flags:
        """Messages accepted by the mailbox."""
        out: Flags = self.bounce == GOOD
        return out


def email_truth(
    population: Population,
    index: Indices,
    *,
    variant: str,
    utc_hour: float,
    recent_sends: npt.NDArray[np.int64],
    parameters: EmailParameters,
) -> EmailTruth:
    """The true open, click and unsubscribe chances of one send to each person of ``index``."""
    persona_shift = np.array(
        [parameters.persona_open.get(k, 0.0) for k in population.persona_keys], dtype=float
    )
    persona_click = np.array(
        [parameters.persona_click.get(k, 0.0) for k in population.persona_keys], dtype=float
    )
    interest = population.interest[index].astype(float) - INTEREST_MEAN
    window = population.active_at(index, utc_hour).astype(float)
    open_odds = (
        parameters.open_base
        + persona_shift[population.persona[index]]
        + parameters.subject_open.get(variant, 0.0)
        + parameters.open_interest * interest
        + parameters.in_window * window
        - parameters.fatigue * recent_sends
    )
    click_odds = (
        parameters.click_base
        + persona_click[population.persona[index]]
        + parameters.content_click.get(variant, 0.0)
        + parameters.click_interest * interest
        - parameters.click_price * population.price_sensitivity[index].astype(float)
    )
    unsubscribe_odds = parameters.unsubscribe_base + parameters.unsubscribe_fatigue * recent_sends
    return EmailTruth(
        open=logistic(open_odds),
        click=logistic(click_odds),
        unsubscribe=logistic(unsubscribe_odds.astype(float)),
    )


def email_outcomes(
    population: Population,
    index: Indices,
    *,
    variant: str,
    utc_hour: float,
    recent_sends: npt.NDArray[np.int64],
    seed: int,
    send_number: int,
    parameters: EmailParameters | None = None,
) -> EmailOutcomes:
    """Draw what each person of ``index`` does with send ``send_number`` (seeded, pure)."""
    parameters = parameters or EmailParameters()
    if recent_sends.shape != index.shape:
        raise InvalidInput(
            "email outcomes: recent_sends must give one count per person",
            [FieldProblem("recent_sends", f"expected {index.shape[0]} counts")],
        )
    truth = email_truth(
        population,
        index,
        variant=variant,
        utc_hour=utc_hour,
        recent_sends=recent_sends,
        parameters=parameters,
    )
    rng = np.random.default_rng([seed, 3, send_number])
    draws = rng.random((5, index.shape[0]))
    bounce = population.address[index].copy()
    delivered = bounce == GOOD
    human_open = delivered & (draws[0] < truth.open)
    return EmailOutcomes(
        index=index,
        bounce=bounce,
        machine_open=delivered & population.privacy_proxy[index],
        human_open=human_open,
        click=human_open & (draws[1] < truth.click),
        unsubscribe=human_open & (draws[2] < truth.unsubscribe),
        complaint=delivered & ~human_open & (draws[3] < parameters.complaint),
        truth=truth,
    )
