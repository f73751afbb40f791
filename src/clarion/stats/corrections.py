"""Multiple-comparison corrections of p-values across arms and metrics (Holm, BH)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from clarion.stats.arrays import FloatArray, IntArray, as_floats
from clarion.stats.settings import Correction


@dataclass(frozen=True)
class _Ranked:
    """P-values sorted along the last axis, with ranks, test counts and the sort order."""

    p: FloatArray
    rank: FloatArray
    m: FloatArray
    order: IntArray


def _rank(p_values: npt.ArrayLike, axis: int) -> _Ranked:
    p = np.moveaxis(as_floats(p_values), axis, -1)
    order = np.argsort(p, axis=-1)  # NaN sorts last and does not count as a test
    ranked = np.take_along_axis(p, order, axis=-1)
    m = np.sum(~np.isnan(p), axis=-1, keepdims=True)
    rank = np.arange(1, p.shape[-1] + 1)
    return _Ranked(
        p=ranked,
        rank=as_floats(np.broadcast_to(rank, p.shape)),
        m=as_floats(np.broadcast_to(m, p.shape)),
        order=order,
    )


def _restore(adjusted: FloatArray, ranked: _Ranked, axis: int) -> FloatArray:
    out = np.empty_like(adjusted)
    np.put_along_axis(out, ranked.order, adjusted, axis=-1)
    return as_floats(np.moveaxis(out, -1, axis))


def bonferroni(p_values: npt.ArrayLike, axis: int = -1) -> FloatArray:
    """Each p-value times the number of tests, capped at 1 (NaN entries are not tests)."""
    ranked = _rank(p_values, axis)
    return _restore(np.minimum(ranked.p * ranked.m, 1.0), ranked, axis)


def holm(p_values: npt.ArrayLike, axis: int = -1) -> FloatArray:
    """Holm step-down adjusted p-values: controls the family-wise error rate."""
    ranked = _rank(p_values, axis)
    scaled = np.minimum((ranked.m - ranked.rank + 1.0) * ranked.p, 1.0)
    return _restore(as_floats(np.maximum.accumulate(scaled, axis=-1)), ranked, axis)


def benjamini_hochberg(p_values: npt.ArrayLike, axis: int = -1) -> FloatArray:
    """Benjamini-Hochberg step-up adjusted p-values: controls the false discovery rate."""
    ranked = _rank(p_values, axis)
    scaled = np.minimum(ranked.p * ranked.m / ranked.rank, 1.0)
    missing = np.isnan(scaled)
    running = np.minimum.accumulate(np.where(missing, np.inf, scaled)[..., ::-1], axis=-1)
    adjusted = np.where(missing, np.nan, running[..., ::-1])
    return _restore(as_floats(adjusted), ranked, axis)


def adjust_p_values(
    p_values: npt.ArrayLike, method: Correction = "holm", axis: int = -1
) -> FloatArray:
    """Adjust a family of p-values (along `axis`) for multiple comparisons."""
    if method == "holm":
        return holm(p_values, axis)
    if method == "benjamini_hochberg":
        return benjamini_hochberg(p_values, axis)
    return bonferroni(p_values, axis)
