"""Typed settings for every test: frozen dataclasses whose choices are `Literal` strings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Difference = Literal["relative", "absolute"]
Alternative = Literal["two_sided", "greater", "less"]
Spending = Literal["obrien_fleming", "pocock"]
Correction = Literal["holm", "benjamini_hochberg", "bonferroni"]

DEFAULT_SEQUENTIAL_TUNING = 5000.0


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")


@dataclass(frozen=True)
class FrequentistSettings:
    """Fixed-horizon test: significance level, effect scale, sidedness, null value."""

    alpha: float = 0.05
    difference: Difference = "relative"
    alternative: Alternative = "two_sided"
    test_value: float = 0.0

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)


@dataclass(frozen=True)
class SequentialSettings:
    """Always-valid test: level, effect scale and the total sample where it is tightest."""

    alpha: float = 0.05
    difference: Difference = "relative"
    tuning_parameter: float = DEFAULT_SEQUENTIAL_TUNING

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)
        if self.tuning_parameter <= 0:
            raise ValueError("tuning_parameter must be positive")


@dataclass(frozen=True)
class GroupSequentialSettings:
    """Planned-horizon test: level, effect scale and the alpha-spending function."""

    alpha: float = 0.05
    difference: Difference = "relative"
    spending: Spending = "obrien_fleming"

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)


@dataclass(frozen=True)
class GaussianPrior:
    """Normal prior on the effect; improper (flat) unless `proper` is set."""

    mean: float = 0.0
    variance: float = 1.0
    proper: bool = False

    def __post_init__(self) -> None:
        if self.proper and self.variance <= 0:
            raise ValueError("a proper prior needs a positive variance")


@dataclass(frozen=True)
class BayesianSettings:
    """Normal-approximation Bayesian test on the effect (gbstats' effect model)."""

    alpha: float = 0.05
    difference: Difference = "relative"
    inverse: bool = False
    prior: GaussianPrior = field(default_factory=GaussianPrior)
    prior_scale: Difference = "relative"

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)


@dataclass(frozen=True)
class BetaBinomialSettings:
    """Beta-Binomial test on conversion rates with a Beta(prior_alpha, prior_beta) prior."""

    alpha: float = 0.05
    difference: Difference = "relative"
    inverse: bool = False
    prior_alpha: float = 1.0
    prior_beta: float = 1.0

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)
        if self.prior_alpha <= 0 or self.prior_beta <= 0:
            raise ValueError("Beta prior parameters must be positive")
