"""Markov-chain attribution: conversion probability of a journey graph and removal effects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np

START: Final = "(start)"
CONVERSION: Final = "(conversion)"
NULL: Final = "(null)"


@dataclass(frozen=True)
class RemovalEffects:
    """The chain's conversion probability and, per state, the share lost when it is removed."""

    conversion_probability: float
    effects: dict[str, float]  # state -> 1 − P(conversion without it) / P(conversion)

    def shares(self) -> dict[str, float]:
        """Effects normalised to sum to 1: the share of conversions each state earns."""
        total = sum(self.effects.values())
        if total <= 0:
            return dict.fromkeys(self.effects, 0.0)
        return {state: effect / total for state, effect in self.effects.items()}


def _conversion_probability(
    states: list[str], counts: Mapping[tuple[str, str], float], removed: str | None
) -> float:
    """P(reaching CONVERSION from START), every move into ``removed`` sent to NULL instead."""
    transient = [s for s in states if s != removed]
    index = {s: i for i, s in enumerate(transient)}
    size = len(transient)
    q = np.zeros((size, size))
    r = np.zeros(size)
    totals = np.zeros(size)
    for (source, target), count in counts.items():
        if source == removed or source not in index:
            continue
        i = index[source]
        totals[i] += count
        if target == CONVERSION:
            r[i] += count
        elif target in index:
            q[i, index[target]] += count
        # NULL and the removed state absorb without converting
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.divide(q, totals[:, None], out=np.zeros_like(q), where=totals[:, None] > 0)
        r = np.divide(r, totals, out=np.zeros_like(r), where=totals > 0)
    # x = Qx + r: the absorption probabilities of the transient states (least squares copes
    # with states that only loop among themselves, whose probability is 0).
    solution, *_ = np.linalg.lstsq(np.eye(size) - q, r, rcond=None)
    return float(np.clip(solution[index[START]], 0.0, 1.0))


def removal_effects(counts: Mapping[tuple[str, str], float]) -> RemovalEffects:
    """Removal effects of every state of a first-order chain given transition counts.

    ``counts`` maps (from, to) to how many journeys made that move; journeys begin at START
    and end at CONVERSION or NULL.
    """
    states = sorted({s for pair in counts for s in pair} - {CONVERSION, NULL} | {START})
    base = _conversion_probability(states, counts, None)
    effects = {}
    for state in states:
        if state == START:
            continue
        without = _conversion_probability(states, counts, state)
        effects[state] = 1.0 - without / base if base > 0 else 0.0
    return RemovalEffects(base, effects)
