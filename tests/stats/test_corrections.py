"""Multiple-comparison corrections against textbook examples."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.stats import adjust_p_values, benjamini_hochberg, bonferroni, holm

# Benjamini & Hochberg (1995), section 4: fifteen p-values from a clinical trial.
BH_1995 = [
    0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
    0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000,
]  # fmt: skip


def test_bh_1995_rejects_four_where_holm_rejects_three():
    assert int(np.sum(benjamini_hochberg(BH_1995) <= 0.05)) == 4
    assert int(np.sum(holm(BH_1995) <= 0.05)) == 3
    assert int(np.sum(bonferroni(BH_1995) <= 0.05)) == 3


def test_holm_by_hand():
    # Sorted 0.005, 0.01, 0.03, 0.04 are scaled by 4, 3, 2, 1 then made monotone.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_benjamini_hochberg_by_hand():
    # Sorted 0.005, 0.01, 0.03, 0.04 are scaled by 4/1, 4/2, 4/3, 4/4 then made monotone.
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])


def test_missing_p_values_are_not_counted_as_tests():
    assert holm([0.01, np.nan, 0.04]) == pytest.approx([0.02, np.nan, 0.04], nan_ok=True)


def test_each_row_is_its_own_family():
    rows = np.array([[0.01, 0.04, 0.03, 0.005], [0.5, 0.5, 0.5, 0.5]])
    adjusted = adjust_p_values(rows, "benjamini_hochberg")
    assert adjusted[0] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert adjusted[1] == pytest.approx([0.5] * 4)
    columns = adjust_p_values(rows.T, "benjamini_hochberg", axis=0)
    np.testing.assert_allclose(columns, adjusted.T)


@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=25))
def test_adjusted_p_values_are_ordered_and_bounded(p):
    raw = np.array(p)
    bh, hl, bf = benjamini_hochberg(raw), holm(raw), bonferroni(raw)
    assert np.all(raw <= bh + 1e-12) and np.all(bh <= hl + 1e-12) and np.all(hl <= bf + 1e-12)
    assert np.all(bf <= 1.0)
