"""The response posterior: the prior alone on day one, the truth learned as days arrive."""

from __future__ import annotations

import numpy as np
import pytest

from clarion.stats.response_curves import (
    ResponsePrior,
    carried,
    drawn_curves,
    fit_response,
    mean_curves,
)

PRIOR = ResponsePrior(reference_spend=100.0, expected_at_reference=5.0)


def _observe(
    rng: np.random.Generator, spend: np.ndarray, a: float, s: float, lam: float
) -> np.ndarray:
    level = carried(spend, np.array([lam]))[0]
    return rng.poisson(a * level / (level + s)).astype(float)


def test_with_no_data_the_curve_is_the_prior() -> None:
    posterior = fit_response(np.array([]), np.array([]), PRIOR)

    curve = mean_curves([posterior])
    assert curve.response(np.array([100.0]))[0] == pytest.approx(5.0, rel=1e-9)


def test_the_posterior_learns_the_true_curve_and_narrows() -> None:
    rng = np.random.default_rng(7)
    spend = rng.uniform(20, 400, size=60)
    results = _observe(rng, spend, a=40.0, s=300.0, lam=0.3)

    early = fit_response(spend[:3], results[:3], PRIOR)
    late = fit_response(spend, results, PRIOR)

    spends = np.array([100.0, 200.0, 400.0])
    truth = 40.0 * spends / (spends + 300.0)
    learned = np.array([mean_curves([late]).response(np.array([x]))[0] for x in spends])
    assert learned == pytest.approx(truth, rel=0.2)
    spread = [
        np.std(drawn_curves([p], rng, 400).response(np.full((400, 1), 400.0)))
        for p in (early, late)
    ]
    assert spread[1] < spread[0] / 2


def test_a_half_life_relearns_a_unit_that_degrades() -> None:
    rng = np.random.default_rng(3)
    spend = np.full(40, 200.0)
    results = np.concatenate(
        [_observe(rng, spend[:20], 40.0, 300.0, 0.0), _observe(rng, spend[20:], 12.0, 300.0, 0.0)]
    )

    steady = mean_curves([fit_response(spend, results, PRIOR)]).response(np.array([200.0]))[0]
    tracking = mean_curves([fit_response(spend, results, PRIOR, half_life_days=5)]).response(
        np.array([200.0])
    )[0]

    now = 12.0 * 200.0 / 500.0
    assert abs(tracking - now) < abs(steady - now)


def test_negative_or_mismatched_data_is_refused() -> None:
    with pytest.raises(ValueError, match="same number of days"):
        fit_response(np.array([1.0, 2.0]), np.array([1.0]), PRIOR)
    with pytest.raises(ValueError, match="not negative"):
        fit_response(np.array([-1.0]), np.array([1.0]), PRIOR)
