"""Sample-ratio mismatch: chi-square of arm sizes against the planned split."""

import numpy as np
import pytest
from scipy import stats

from clarion.stats import srm_test


def test_a_52_48_split_of_10000_is_flagged():
    result = srm_test([5200, 4800], [0.5, 0.5])
    assert float(result.chi_square) == pytest.approx(16.0)
    assert bool(result.mismatch)


def test_a_plausible_split_is_not_flagged():
    assert not bool(srm_test([5030, 4970], [0.5, 0.5]).mismatch)


def test_three_arms_match_scipy_chisquare():
    counts, weights = np.array([3100, 2950, 4150]), np.array([0.3, 0.3, 0.4])
    result = srm_test(counts, weights)
    reference = stats.chisquare(counts, weights * counts.sum())
    assert float(result.p_value) == pytest.approx(reference.pvalue)
    np.testing.assert_allclose(result.expected, [3060, 3060, 4080])


def test_arms_without_planned_traffic_add_no_degree_of_freedom():
    with_extra = srm_test([5000, 5050, 0], [0.5, 0.5, 0.0])
    without = srm_test([5000, 5050], [0.5, 0.5])
    assert float(with_extra.p_value) == pytest.approx(float(without.p_value))


def test_no_units_means_no_evidence():
    assert float(srm_test([0, 0], [0.5, 0.5]).p_value) == 1.0


def test_many_experiments_at_once():
    counts = np.array([[5200, 4800], [5010, 4990], [100, 100]])
    assert srm_test(counts, [0.5, 0.5]).mismatch.tolist() == [True, False, False]
