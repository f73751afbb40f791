"""Sample size and power: known values and agreement with a quick simulation."""

import numpy as np
import pytest

from clarion.stats import (
    mean_power,
    mean_sample_size,
    minimum_detectable_effect,
    proportion_power,
    proportion_sample_size,
)


def test_ten_versus_eleven_percent_needs_about_14750_per_arm():
    assert float(proportion_sample_size(0.10, 0.11, alpha=0.05, power=0.8)) == 14_751


def test_a_tenth_of_a_standard_deviation_needs_1570_per_arm():
    # 2·(1.95996 + 0.84162)² / 0.1² = 1569.8
    assert float(mean_sample_size(1.0, 0.1)) == 1570


def test_one_sided_tests_need_fewer_units():
    assert float(mean_sample_size(1.0, 0.1, alternative="greater")) < 1570


def test_unequal_allocation_needs_more_control_units_in_total():
    balanced = float(mean_sample_size(1.0, 0.1))
    skewed = float(mean_sample_size(1.0, 0.1, ratio=3.0))
    assert skewed * 4 > balanced * 2


def test_power_and_sample_size_are_inverse():
    n = proportion_sample_size(0.05, 0.06, power=0.9)
    assert float(proportion_power(n, 0.05, 0.06)) == pytest.approx(0.9, abs=1e-3)
    assert float(mean_power(1570, 1.0, 0.1)) == pytest.approx(0.8, abs=1e-3)
    assert float(minimum_detectable_effect(1570, 1.0)) == pytest.approx(0.1, abs=1e-4)


def test_planned_power_holds_in_simulation():
    rng = np.random.default_rng(3)
    n = int(mean_sample_size(2.0, 0.25))
    sims = 2000
    # Arm means of n normal units are Normal(mu, 4 / n): simulate those directly.
    diff = rng.normal(0.25, np.sqrt(2 * 4.0 / n), sims)
    z = diff / np.sqrt(2 * 4.0 / n)
    assert np.mean(np.abs(z) > 1.959963984540054) == pytest.approx(0.8, abs=0.03)


def test_sizes_vectorise_over_many_metrics():
    baselines = np.array([0.02, 0.05, 0.10])
    sizes = proportion_sample_size(baselines, baselines * 1.1)
    assert sizes.shape == (3,)
    assert np.all(np.diff(sizes) < 0)
