"""BG/NBD and Gamma-Gamma reproduce the published CDNOW fits and recover simulated truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clarion.stats.clv import (
    bgnbd_alive,
    bgnbd_expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_expected_value,
    lifetime_value,
)

CDNOW = np.genfromtxt(
    Path(__file__).parent / "data" / "cdnow_summary.csv", delimiter=",", names=True
)


def test_bgnbd_reproduces_the_published_cdnow_parameters() -> None:
    fit = fit_bgnbd(CDNOW["x"], CDNOW["t_x"], CDNOW["T"])

    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert {k: round(v, 3) for k, v in fit.params.items()} == published
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert fit.converged and fit.customers == 2357
    assert all(0 < e < fit.params[k] for k, e in fit.std_errors.items())


def test_gamma_gamma_reproduces_the_published_cdnow_parameters() -> None:
    fit = fit_gamma_gamma(CDNOW["x"], CDNOW["zbar"])

    assert {k: round(v, 2) for k, v in fit.params.items()} == {"p": 6.25, "q": 3.74, "v": 15.45}
    assert fit.customers == 946  # those with a repeat purchase


def test_predictions_match_golden_numbers() -> None:
    # Customer 1 of CDNOW (x=2, t_x=30.43, T=38.86, zbar=22.35) and customer 2 (1, 1.71).
    bgnbd = {"r": 0.242593, "alpha": 4.413532, "a": 0.792886, "b": 2.425752}
    gamma_gamma = {"p": 6.248802, "q": 3.744588, "v": 15.447748}
    x, t_x, age, value = [2, 1], [30.43, 1.71], [38.86, 38.86], [22.35, 11.77]

    assert bgnbd_expected_purchases(bgnbd, 39, x, t_x, age) == pytest.approx(
        [1.225910, 0.203251], rel=1e-5
    )
    assert gamma_gamma_expected_value(gamma_gamma, x, value) == pytest.approx(
        [24.658616, 18.911480], rel=1e-5
    )
    alive = bgnbd_alive(bgnbd, [0, *x], [0, *t_x], [38.86, *age])
    assert alive[0] == 1.0 and 0 < alive[2] < alive[1] < 1


def _simulate(rng: np.random.Generator, customers: int, weeks: float) -> tuple[np.ndarray, ...]:
    """BG/NBD's story: purchase rate λ ~ Gamma(r, α), after each purchase drop out with p ~
    Beta(a, b) after each repeat purchase; the first purchase at 0, observed for ``weeks``."""
    rates = rng.gamma(0.5, 1 / 5.0, customers)  # r = 0.5, α = 5
    dropouts = rng.beta(0.8, 3.0, customers)  # a = 0.8, b = 3
    x, t_x = np.zeros(customers), np.zeros(customers)
    for i in range(customers):
        at = rng.exponential(1 / rates[i])
        while at <= weeks:
            x[i] += 1
            t_x[i] = at
            if rng.random() < dropouts[i]:  # after a repeat purchase: drops out with p
                break
            at += rng.exponential(1 / rates[i])
    return x, t_x, np.full(customers, weeks)


def test_bgnbd_recovers_simulated_parameters_within_their_errors() -> None:
    x, t_x, age = _simulate(np.random.default_rng(4), 6000, 52.0)

    fit = fit_bgnbd(x, t_x, age)

    truth = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 3.0}
    for name, value in truth.items():
        assert abs(fit.params[name] - value) < 4 * fit.std_errors[name], (name, fit.params)


def test_lifetime_value_discounts_future_periods() -> None:
    bgnbd = {"r": 0.242593, "alpha": 4.413532, "a": 0.792886, "b": 2.425752}
    gamma_gamma = {"p": 6.248802, "q": 3.744588, "v": 15.447748}
    history = (CDNOW["x"], CDNOW["t_x"], CDNOW["T"], CDNOW["zbar"])

    undiscounted = lifetime_value(
        bgnbd, gamma_gamma, history, periods=12, period_length=4.345, discount_rate=0.0
    )
    discounted = lifetime_value(bgnbd, gamma_gamma, history, periods=12, period_length=4.345)

    assert np.all(undiscounted >= discounted) and np.all(discounted >= 0)
    expected = bgnbd_expected_purchases(bgnbd, 12 * 4.345, *history[:3]) * (
        gamma_gamma_expected_value(gamma_gamma, history[0], history[3])
    )
    assert undiscounted == pytest.approx(expected, rel=1e-9)
