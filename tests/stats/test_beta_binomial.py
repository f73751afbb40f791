"""Beta-Binomial test: quadrature checked against Evan Miller's closed form and sampling."""

import numpy as np
import pytest
from scipy.special import betaln

from clarion.stats import BetaBinomialSettings, ProportionStats, beta_binomial_test

ABSOLUTE = BetaBinomialSettings(difference="absolute")


def closed_form_b_beats_a(a_alpha, a_beta, b_alpha, b_beta):
    """P(B > A) for Beta posteriors with integer b_alpha (Evan Miller, 2015)."""
    total = 0.0
    for i in range(int(b_alpha)):
        total += np.exp(
            betaln(a_alpha + i, a_beta + b_beta)
            - np.log(b_beta + i)
            - betaln(1 + i, b_beta)
            - betaln(a_alpha, a_beta)
        )
    return total


@pytest.mark.parametrize(
    ("n_a", "x_a", "n_b", "x_b"),
    [
        (100, 10, 120, 15),
        (1000, 100, 50, 8),  # very unequal arms
        (20, 0, 5000, 30),
        (10_000, 1000, 10_000, 1100),
        (200, 0, 200, 0),
    ],
)
def test_chance_to_win_matches_the_closed_form(n_a, x_a, n_b, x_b):
    result = beta_binomial_test(ProportionStats(n_a, x_a), ProportionStats(n_b, x_b), ABSOLUTE)
    exact = closed_form_b_beats_a(x_a + 1, n_a - x_a + 1, x_b + 1, n_b - x_b + 1)
    assert float(result.chance_to_win) == pytest.approx(exact, abs=1e-9)


@pytest.mark.parametrize("difference", ["absolute", "relative"])
def test_loss_and_interval_agree_with_monte_carlo(difference):
    rng = np.random.default_rng(11)
    a = rng.beta(1 + 120, 1 + 880, 400_000)
    b = rng.beta(1 + 150, 1 + 850, 400_000)
    lift = b - a if difference == "absolute" else b / a - 1
    result = beta_binomial_test(
        ProportionStats(1000, 120),
        ProportionStats(1000, 150),
        BetaBinomialSettings(difference=difference),
    )
    scale = lift.std()
    assert float(result.expected) == pytest.approx(lift.mean(), abs=0.01 * scale)
    assert float(result.posterior_sd) == pytest.approx(scale, rel=0.01)
    assert float(result.risk_control) == pytest.approx(np.maximum(lift, 0).mean(), abs=0.01 * scale)
    assert float(result.risk_treatment) == pytest.approx(
        np.maximum(-lift, 0).mean(), abs=0.002 * scale
    )
    assert float(result.ci_lower) == pytest.approx(np.quantile(lift, 0.025), abs=0.02 * scale)
    assert float(result.ci_upper) == pytest.approx(np.quantile(lift, 0.975), abs=0.02 * scale)


def test_relative_lift_needs_a_converting_control():
    result = beta_binomial_test(ProportionStats(50, 0), ProportionStats(50, 5))
    assert result.errors == ("baseline_zero",)
    absolute = beta_binomial_test(ProportionStats(50, 0), ProportionStats(50, 5), ABSOLUTE)
    assert absolute.errors == (None,)
    assert float(absolute.chance_to_win) > 0.95


def test_more_conversions_than_units_is_a_data_bug():
    with pytest.raises(ValueError, match="between 0 and n"):
        beta_binomial_test(ProportionStats(10, 11), ProportionStats(10, 2))
