"""The response posterior: the prior alone on day one, the truth learned as days arrive."""

from __future__ import annotations

import numpy as np
import pytest

from clarion.stats.response_curves import (
    ResponsePosterior,
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


def test_change_detection_relearns_a_degraded_unit_faster_than_a_half_life() -> None:
    rng = np.random.default_rng(5)
    spend = np.full(20, 200.0)
    results = np.concatenate(
        [_observe(rng, spend[:15], 40.0, 300.0, 0.0), _observe(rng, spend[15:], 12.0, 300.0, 0.0)]
    )

    def learned(**kw: float) -> float:
        posterior = fit_response(spend, results, PRIOR, half_life_days=7, **kw)
        return float(mean_curves([posterior]).response(np.array([200.0]))[0])

    now = 12.0 * 200.0 / 500.0
    assert abs(learned(change_per_day=0.02) - now) < abs(learned() - now) / 2
    assert learned(change_per_day=0.02) == pytest.approx(now, rel=0.35)


def test_change_detection_leaves_a_steady_unit_alone() -> None:
    rng = np.random.default_rng(6)
    spend = rng.uniform(100, 300, size=30)
    results = _observe(rng, spend, 40.0, 300.0, 0.2)

    plain = fit_response(spend, results, PRIOR)
    watched = fit_response(spend, results, PRIOR, change_per_day=0.02)

    spends = np.array([100.0, 200.0, 300.0])
    assert mean_curves([watched]).response(spends) == pytest.approx(
        mean_curves([plain]).response(spends), rel=0.05
    )


def test_the_saturation_prior_centres_on_the_reference_spend_and_can_be_flat() -> None:
    centred = fit_response(np.array([]), np.array([]), PRIOR)
    flat = fit_response(
        np.array([]), np.array([]), ResponsePrior(100.0, 5.0, saturation_spread=None)
    )

    def far_from_reference(posterior: ResponsePosterior) -> float:
        scales, weights = posterior.scales, posterior.weights
        return float(weights[(scales < 30.0) | (scales > 400.0)].sum())

    assert far_from_reference(centred) < far_from_reference(flat) / 3
    assert np.allclose(flat.weights, flat.weights[0])


@pytest.mark.parametrize("change_per_day", [0.0, 0.02])
def test_results_on_a_day_without_carried_spend_keep_the_posterior_finite(
    change_per_day: float,
) -> None:
    spend = np.array([0.0, 0.0, 100.0, 100.0])
    results = np.array([3.0, 0.0, 4.0, 6.0])

    posterior = fit_response(spend, results, PRIOR, change_per_day=change_per_day)

    assert np.all(np.isfinite(posterior.weights)) and posterior.weights.sum() == pytest.approx(1)
    assert np.all(np.isfinite(mean_curves([posterior]).response(np.array([100.0]))))
