"""Fixed-horizon tests checked against scipy on raw data and against the formulas by hand."""

import numpy as np
import pytest
from scipy import stats

from clarion.stats import (
    FrequentistSettings,
    MeanStats,
    ProportionStats,
    two_proportion_z_test,
    welch_t_test,
    z_test,
)

ABSOLUTE = FrequentistSettings(difference="absolute")


@pytest.fixture(scope="module")
def samples():
    rng = np.random.default_rng(2026)
    return rng.normal(10.0, 2.0, 400), rng.normal(10.4, 2.6, 350)


@pytest.mark.parametrize(
    ("ours", "scipys"), [("two_sided", "two-sided"), ("greater", "greater"), ("less", "less")]
)
def test_welch_t_matches_scipy_on_the_raw_arrays(samples, ours, scipys):
    control, treatment = samples
    settings = FrequentistSettings(difference="absolute", alternative=ours, alpha=0.1)
    result = welch_t_test(
        MeanStats.from_values(control), MeanStats.from_values(treatment), settings
    )
    reference = stats.ttest_ind(treatment, control, equal_var=False, alternative=scipys)
    ci = reference.confidence_interval(confidence_level=0.9)
    assert float(result.p_value) == pytest.approx(reference.pvalue, rel=1e-10)
    assert float(result.statistic) == pytest.approx(reference.statistic, rel=1e-10)
    assert float(result.dof) == pytest.approx(reference.df, rel=1e-10)
    assert float(result.ci_lower) == pytest.approx(ci.low, rel=1e-10)
    assert float(result.ci_upper) == pytest.approx(ci.high, rel=1e-10)


def test_relative_lift_uses_the_delta_method_by_hand():
    # Control mean 10, variance 4; treatment mean 10.5, variance 4.41; 1,000 units each.
    control = MeanStats(n=1000, sum=10_000, sum_squares=999 * 4 + 1000 * 100)
    treatment = MeanStats(n=1000, sum=10_500, sum_squares=999 * 4.41 + 1000 * 110.25)
    result = z_test(control, treatment)
    variance = 4.41 / (10**2 * 1000) + 4 * 10.5**2 / (10**4 * 1000)
    assert float(result.estimate) == pytest.approx(0.05)
    assert float(result.standard_error) == pytest.approx(np.sqrt(variance))
    assert float(result.ci_lower) == pytest.approx(0.05 - 1.959963984540054 * np.sqrt(variance))
    assert float(result.p_value) == pytest.approx(2 * stats.norm.sf(0.05 / np.sqrt(variance)))


def test_two_proportion_z_matches_the_textbook_formula():
    control, treatment = ProportionStats(n=5000, sum=500), ProportionStats(n=5000, sum=565)
    result = two_proportion_z_test(control, treatment, ABSOLUTE)
    pooled = 1065 / 10_000
    z = (0.113 - 0.100) / np.sqrt(pooled * (1 - pooled) * (2 / 5000))
    wald = np.sqrt(0.1 * 0.9 / 5000 + 0.113 * 0.887 / 5000)
    assert float(result.statistic) == pytest.approx(z)
    assert float(result.p_value) == pytest.approx(2 * stats.norm.sf(z))
    assert float(result.ci_upper) == pytest.approx(0.013 + 1.959963984540054 * wald)


def test_two_proportion_z_reads_a_zero_conversion_control():
    result = two_proportion_z_test(ProportionStats(1000, 0), ProportionStats(1000, 12), ABSOLUTE)
    assert result.errors == (None,)
    assert float(result.p_value) < 0.001


@pytest.mark.parametrize(
    ("control", "treatment", "settings", "code"),
    [
        (MeanStats(1, 5, 25), MeanStats(10, 50, 300), FrequentistSettings(), "insufficient_data"),
        (MeanStats(10, 50, 250), MeanStats(10, 60, 400), FrequentistSettings(), "zero_variance"),
        (MeanStats(10, 0, 40), MeanStats(10, 5, 40), FrequentistSettings(), "baseline_zero"),
        (ProportionStats(100, 0), ProportionStats(100, 3), ABSOLUTE, "zero_variance"),
    ],
)
def test_unanalysable_metrics_carry_a_stable_error_code(control, treatment, settings, code):
    result = welch_t_test(control, treatment, settings)
    assert result.errors == (code,)
    assert not bool(result.ok)
    assert np.isnan(result.p_value) and np.isnan(result.ci_lower)
    assert not bool(result.significant)


def test_significance_follows_alpha():
    control, treatment = ProportionStats(4000, 400), ProportionStats(4000, 460)
    loose = welch_t_test(control, treatment, FrequentistSettings(alpha=0.1))
    strict = welch_t_test(control, treatment, FrequentistSettings(alpha=0.01))
    assert 0.01 < float(loose.p_value) < 0.1
    assert bool(loose.significant) and not bool(strict.significant)


def test_settings_refuse_an_impossible_alpha():
    with pytest.raises(ValueError, match="alpha"):
        FrequentistSettings(alpha=1.5)
