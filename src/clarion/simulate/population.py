"""Simulated people drawn from personas: seeded, columnar (numpy), from 1,000 to 1,000,000."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Final

import numpy as np
import numpy.typing as npt

from clarion.audiences.personas import Persona
from clarion.core.errors import FieldProblem, InvalidInput

MIN_SIZE: Final = 1
MAX_SIZE: Final = 1_000_000
# Channels a simulated person may prefer (columns of ``Population.prefers``).
CHANNELS: Final = ("email", "search", "social", "display", "web")
# Countries drawn when a persona names no region, and each country's standard UTC offset and
# IANA zone (daylight saving is ignored: a simulated hour is off by one for half the year).
DEFAULT_COUNTRIES: Final = ("DE", "FR", "GB", "NL", "ES", "US")
ZONES: Final = {
    "DE": (1.0, "Europe/Berlin"),
    "FR": (1.0, "Europe/Paris"),
    "GB": (0.0, "Europe/London"),
    "IE": (0.0, "Europe/Dublin"),
    "NL": (1.0, "Europe/Amsterdam"),
    "BE": (1.0, "Europe/Brussels"),
    "ES": (1.0, "Europe/Madrid"),
    "IT": (1.0, "Europe/Rome"),
    "AT": (1.0, "Europe/Vienna"),
    "CH": (1.0, "Europe/Zurich"),
    "PL": (1.0, "Europe/Warsaw"),
    "SE": (1.0, "Europe/Stockholm"),
    "FI": (2.0, "Europe/Helsinki"),
    "US": (-5.0, "America/New_York"),
    "CA": (-5.0, "America/Toronto"),
    "BR": (-3.0, "America/Sao_Paulo"),
    "IN": (5.5, "Asia/Kolkata"),
    "JP": (9.0, "Asia/Tokyo"),
    "SG": (8.0, "Asia/Singapore"),
    "AU": (10.0, "Australia/Sydney"),
}
UNKNOWN_ZONE: Final = (0.0, "Etc/UTC")
# What an address does when mailed: delivered, hard bounce (no such mailbox), soft bounce.
GOOD, HARD_BOUNCE, SOFT_BOUNCE = 0, 1, 2
HARD_SHARE_OF_BAD: Final = 0.7  # of the bad addresses, the share that bounce hard
PREFERRED: Final = 0.8  # chance a persona's channel is one of a person's preferred channels
OTHERWISE: Final = 0.15  # chance for any other channel


@dataclass(frozen=True)
class PopulationParameters:
    """The knobs of a population beyond its personas (documented in docs/simulator.md)."""

    bad_address_share: float = 0.03  # addresses that bounce (hard or soft) when mailed
    email_consent_share: float = 0.9  # people who granted marketing:email
    privacy_proxy_share: float = 0.35  # mailboxes behind a proxy that fetches every image
    interest: tuple[float, float] = (2.0, 5.0)  # Beta(a, b) of latent interest in the product
    price_sensitivity: tuple[float, float] = (2.0, 2.0)  # Beta(a, b)
    peak_hour: tuple[float, float] = (11.0, 3.0)  # local hour of most activity: normal(mean, sd)
    active_hours: tuple[int, int] = (3, 8)  # width of the activity window: uniform integers

    def problems(self) -> list[FieldProblem]:
        """What is wrong with these parameters, field by field."""
        checks = (
            ("bad_address_share", 0 <= self.bad_address_share <= 1, "must be in [0, 1]"),
            ("email_consent_share", 0 <= self.email_consent_share <= 1, "must be in [0, 1]"),
            ("privacy_proxy_share", 0 <= self.privacy_proxy_share <= 1, "must be in [0, 1]"),
            ("interest", min(self.interest) > 0, "Beta parameters must be above 0"),
            ("price_sensitivity", min(self.price_sensitivity) > 0, "Beta parameters above 0"),
            ("peak_hour", 0 <= self.peak_hour[0] < 24 and self.peak_hour[1] >= 0, "hour, sd"),
            ("active_hours", 1 <= self.active_hours[0] <= self.active_hours[1] <= 24, "1-24"),
        )
        return [FieldProblem(name, problem) for name, ok, problem in checks if not ok]


@dataclass(frozen=True)
class Population:
    """Simulated people as columns; row i is person i. Latent columns are the simulator's truth."""

    seed: int
    persona_keys: tuple[str, ...]  # ``persona`` indexes this
    countries: tuple[str, ...]  # ``country`` indexes this
    persona: npt.NDArray[np.int16]
    age: npt.NDArray[np.int16]
    country: npt.NDArray[np.int16]
    utc_offset: npt.NDArray[np.float32]  # hours
    interest: npt.NDArray[np.float32]  # latent, in (0, 1): how much the product appeals
    price_sensitivity: npt.NDArray[np.float32]  # latent, in (0, 1)
    prefers: npt.NDArray[np.bool_]  # (size, len(CHANNELS)): preferred channels
    active_from: npt.NDArray[np.int8]  # local hour the activity window opens, 0-23
    active_hours: npt.NDArray[np.int8]  # its width in hours
    address: npt.NDArray[np.int8]  # GOOD, HARD_BOUNCE or SOFT_BOUNCE
    email_consent: npt.NDArray[np.bool_]
    privacy_proxy: npt.NDArray[np.bool_]  # latent: the mailbox opens every message by machine

    @property
    def size(self) -> int:
        """How many people."""
        return int(self.persona.shape[0])

    def email(self, index: int) -> str:
        """Person ``index``'s address (a reserved example domain: never a real mailbox)."""
        return f"p{index:07d}@s{self.seed}.example.com"

    def external_id(self, index: int) -> str:
        """Person ``index``'s id in the simulated CRM."""
        return f"sim-{self.seed}-{index:07d}"

    def active_at(self, index: npt.NDArray[np.int64], utc_hour: float) -> npt.NDArray[np.bool_]:
        """Whether each person in ``index`` is in their activity window at ``utc_hour``."""
        local = np.mod(utc_hour + self.utc_offset[index], 24.0)
        since = np.mod(local - self.active_from[index], 24.0)
        active: npt.NDArray[np.bool_] = since < self.active_hours[index]
        return active

    def same_as(self, other: Population) -> bool:
        """Every column equal: what "same seed, same world" means."""
        return all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name))
            if isinstance(getattr(self, f.name), np.ndarray)
            else getattr(self, f.name) == getattr(other, f.name)
            for f in fields(self)
        )


def generate_population(
    personas: Sequence[Persona],
    size: int,
    seed: int,
    *,
    weights: Sequence[float] | None = None,
    parameters: PopulationParameters | None = None,
) -> Population:
    """``size`` people from ``personas`` (mixed by ``weights``, equal by default), from ``seed``.

    Ages, countries and preferred channels follow each persona's fields where it has them;
    the same seed and arguments give the same people.
    """
    parameters = parameters or PopulationParameters()
    problems = _problems(personas, size, weights) + parameters.problems()
    if problems:
        raise InvalidInput(f"population: {problems[0].path} {problems[0].problem}", problems)
    rng = np.random.default_rng([seed, 1])
    mix = np.asarray(weights if weights is not None else [1.0] * len(personas), dtype=float)
    persona = rng.choice(len(personas), size=size, p=mix / mix.sum()).astype(np.int16)

    countries = sorted(
        {r[:2] for p in personas for r in p.demographics.regions} | set(DEFAULT_COUNTRIES)
    )
    age_low = np.array([_age(p)[0] for p in personas])
    age_high = np.array([_age(p)[1] for p in personas])
    age = rng.integers(age_low[persona], age_high[persona] + 1).astype(np.int16)
    country = np.empty(size, dtype=np.int16)
    for which, p in enumerate(personas):
        mine = np.flatnonzero(persona == which)
        own = sorted({r[:2] for r in p.demographics.regions}) or list(DEFAULT_COUNTRIES)
        codes = np.array([countries.index(c) for c in own], dtype=np.int16)
        country[mine] = codes[rng.integers(0, len(codes), size=mine.size)]
    offsets = np.array([ZONES.get(c, UNKNOWN_ZONE)[0] for c in countries], dtype=np.float32)

    likes = np.array(
        [[PREFERRED if c in p.channels else OTHERWISE for c in CHANNELS] for p in personas]
    )
    prefers = rng.random((size, len(CHANNELS))) < likes[persona]
    peak = rng.normal(parameters.peak_hour[0], parameters.peak_hour[1], size=size)
    width = rng.integers(parameters.active_hours[0], parameters.active_hours[1] + 1, size=size)
    active_from = np.mod(np.round(peak - width / 2), 24).astype(np.int8)
    bad = rng.random(size) < parameters.bad_address_share
    hard = rng.random(size) < HARD_SHARE_OF_BAD
    address = np.where(bad, np.where(hard, HARD_BOUNCE, SOFT_BOUNCE), GOOD).astype(np.int8)
    return Population(
        seed=seed,
        persona_keys=tuple(p.key for p in personas),
        countries=tuple(countries),
        persona=persona,
        age=age,
        country=country,
        utc_offset=offsets[country],
        interest=rng.beta(*parameters.interest, size=size).astype(np.float32),
        price_sensitivity=rng.beta(*parameters.price_sensitivity, size=size).astype(np.float32),
        prefers=prefers,
        active_from=active_from,
        active_hours=width.astype(np.int8),
        address=address,
        email_consent=rng.random(size) < parameters.email_consent_share,
        privacy_proxy=rng.random(size) < parameters.privacy_proxy_share,
    )


def _age(persona: Persona) -> tuple[int, int]:
    age = persona.demographics.age
    return (age.min, age.max) if age is not None else (25, 60)


def _problems(
    personas: Sequence[Persona], size: int, weights: Sequence[float] | None
) -> list[FieldProblem]:
    problems = []
    if not personas:
        problems.append(FieldProblem("personas", "at least one persona is needed"))
    if len({p.key for p in personas}) != len(personas):
        problems.append(FieldProblem("personas", "each persona key appears once"))
    if not MIN_SIZE <= size <= MAX_SIZE:
        problems.append(FieldProblem("size", f"must be between {MIN_SIZE} and {MAX_SIZE:,}"))
    if weights is not None:
        if len(weights) != len(personas):
            problems.append(FieldProblem("weights", "one weight per persona"))
        elif not all(np.isfinite(w) and w >= 0 for w in weights) or sum(weights) <= 0:
            problems.append(FieldProblem("weights", "must be non-negative with a positive sum"))
    return problems
