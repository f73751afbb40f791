"""Planned-horizon boundaries against published Lan-DeMets values, and their power."""

import numpy as np
import pytest

from clarion.stats import (
    GroupSequentialSettings,
    MeanStats,
    boundaries,
    crossing_probability,
    group_sequential_test,
    inflation_factor,
    spent_alpha,
)

FIVE_LOOKS = [0.2, 0.4, 0.6, 0.8, 1.0]


@pytest.mark.parametrize(
    ("fractions", "spending", "published"),
    [
        # Two-sided alpha 0.05, as tabled for gsDesign / ldbounds.
        (FIVE_LOOKS, "obrien_fleming", [4.877, 3.357, 2.680, 2.290, 2.031]),
        ([0.5, 1.0], "obrien_fleming", [2.963, 1.969]),
        (FIVE_LOOKS, "pocock", [2.438, 2.427, 2.410, 2.397, 2.386]),
    ],
)
def test_boundaries_match_published_tables(fractions, spending, published):
    assert boundaries(fractions, 0.05, spending).z == pytest.approx(published, abs=1e-3)


def test_one_look_is_the_fixed_horizon_test():
    assert boundaries([1.0]).z == pytest.approx([1.959963984540054])


@pytest.mark.parametrize("spending", ["obrien_fleming", "pocock"])
def test_thirty_daily_looks_spend_exactly_alpha(spending):
    looks = np.arange(1, 31) / 30
    bounds = boundaries(looks, 0.05, spending)
    assert bounds.spent[-1] == pytest.approx(0.05)
    assert crossing_probability(looks, bounds.z, drift=0.0) == pytest.approx(0.05, abs=1e-6)


def test_spending_is_increasing_and_complete():
    t = np.linspace(0.05, 1.0, 20)
    spent = spent_alpha(t, 0.05, "obrien_fleming")
    assert np.all(np.diff(spent) > 0)
    assert spent[-1] == pytest.approx(0.05)


def test_peeking_five_times_costs_a_few_percent_of_sample_size():
    factor = inflation_factor(FIVE_LOOKS, alpha=0.05, power=0.8)
    assert 1.01 < factor < 1.05
    assert inflation_factor(FIVE_LOOKS, spending="pocock") > factor


def test_group_sequential_look_reports_its_boundary():
    control = MeanStats(n=2000, sum=20_000, sum_squares=1999 * 4 + 2000 * 100)
    treatment = MeanStats(n=2000, sum=20_600, sum_squares=1999 * 4 + 2000 * 106.09)
    settings = GroupSequentialSettings(difference="absolute")
    early = group_sequential_test(control, treatment, [0.2], settings)
    late = group_sequential_test(control, treatment, FIVE_LOOKS, settings)
    assert early.boundary == pytest.approx(4.877, abs=1e-3)
    assert float(early.statistic) == pytest.approx(0.3 / np.sqrt(4 / 2000 * 2))
    assert not bool(early.crossed) and bool(late.crossed)
    assert float(late.ci_lower) == pytest.approx(0.3 - late.boundary * np.sqrt(0.004))


def test_looks_must_increase():
    with pytest.raises(ValueError, match="increasing"):
        boundaries([0.5, 0.5, 1.0])
