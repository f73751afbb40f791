"""Sample-ratio-mismatch check: observed arm sizes against the planned traffic split."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from clarion.stats.arrays import as_floats, safe_divide
from clarion.stats.results import SrmResult

# GrowthBook's default: flag only when the split is very unlikely under the plan.
DEFAULT_SRM_THRESHOLD = 0.001


def srm_test(
    counts: npt.ArrayLike,
    weights: npt.ArrayLike,
    threshold: float = DEFAULT_SRM_THRESHOLD,
) -> SrmResult:
    """Pearson chi-square of units per arm (last axis) against planned `weights`.

    Arms with a non-positive weight add no term and no degree of freedom (their units
    still count in the total, as in gbstats); with no units the p-value is 1.
    """
    observed = as_floats(counts)
    planned = np.broadcast_to(as_floats(weights), observed.shape)
    used = planned > 0
    total = np.sum(observed, axis=-1, keepdims=True)
    kept = np.where(used, planned, 0.0)
    share = safe_divide(kept, np.sum(kept, axis=-1, keepdims=True))
    expected = share * total
    terms = np.where(used, safe_divide((observed - expected) ** 2, expected), 0.0)
    chi_square = np.sum(terms, axis=-1)
    dof = np.maximum(np.sum(used, axis=-1) - 1, 1)
    p_value = np.where(total[..., 0] > 0, sps.chi2.sf(chi_square, dof), 1.0)
    return SrmResult(
        chi_square=as_floats(chi_square),
        p_value=as_floats(p_value),
        expected=expected,
        threshold=threshold,
    )
