"""Always-valid confidence sequences: the mixture boundary worked by hand."""

import numpy as np
import pytest

from clarion.stats import (
    MeanStats,
    SequentialSettings,
    always_valid_test,
    confidence_sequence_halfwidth,
    sequential_rho,
    z_test,
)


def test_rho_by_hand():
    alpha, tuning = 0.05, 5000.0
    expected = np.sqrt((-2 * np.log(alpha) + np.log(-2 * np.log(alpha) + 1)) / tuning)
    assert sequential_rho(alpha, tuning) == pytest.approx(expected)


def test_halfwidth_by_hand():
    rho = sequential_rho(0.05, 5000.0)
    n, s2 = 8000.0, 3.0
    by_hand = np.sqrt(
        s2 * 2 * (n * rho**2 + 1) * np.log(np.sqrt(n * rho**2 + 1) / 0.05) / (n * rho) ** 2
    )
    assert float(confidence_sequence_halfwidth(s2, n, 0.05, 5000.0)) == pytest.approx(by_hand)


def test_sequence_is_wider_than_the_fixed_horizon_interval():
    control = MeanStats(n=2000, sum=20_000, sum_squares=1999 * 9 + 2000 * 100)
    treatment = MeanStats(n=2000, sum=20_400, sum_squares=1999 * 9 + 2000 * 104.04)
    fixed = z_test(control, treatment)
    always = always_valid_test(control, treatment)
    assert float(always.estimate) == pytest.approx(float(fixed.estimate))
    assert float(always.ci_lower) < float(fixed.ci_lower)
    assert float(always.ci_upper) > float(fixed.ci_upper)
    assert float(fixed.p_value) < float(always.p_value) <= 1.0


def test_p_value_and_interval_agree_on_significance():
    control = MeanStats(n=3000, sum=30_000, sum_squares=2999 * 9 + 3000 * 100)
    for lift in (0.1, 0.3, 0.5, 0.8):
        mean_b = 10 + lift
        treatment = MeanStats(n=3000, sum=3000 * mean_b, sum_squares=2999 * 9 + 3000 * mean_b**2)
        result = always_valid_test(control, treatment, SequentialSettings(difference="absolute"))
        excludes_zero = float(result.ci_lower) > 0
        assert excludes_zero == bool(result.significant)


def test_tuning_parameter_moves_where_the_sequence_is_tightest():
    widths = [
        float(confidence_sequence_halfwidth(1.0, 1000.0, 0.05, tuning))
        for tuning in (100.0, 1000.0, 100_000.0)
    ]
    assert widths[1] < widths[0] and widths[1] < widths[2]
