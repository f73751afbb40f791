"""Customer lifetime value: BG/NBD for how often, Gamma-Gamma for how much (maximum likelihood).

Fader, Hardie and Lee (2005), "Counting your customers the easy way"; Fader and Hardie (2013),
"The Gamma-Gamma model of monetary value". Customers are summarised by frequency ``x`` (repeat
purchases), recency ``t_x`` (time of the last purchase since the first), age ``T`` (time since
the first purchase) and, for Gamma-Gamma, the mean value ``m`` of their repeat purchases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

from clarion.stats.arrays import FloatArray, as_floats


@dataclass(frozen=True)
class Fit:
    """Fitted parameters by name, their standard errors, and the maximised log-likelihood."""

    params: dict[str, float]
    std_errors: dict[str, float]  # from the inverse Hessian, NaN where it is not invertible
    log_likelihood: float
    customers: int
    converged: bool


def _compress(*columns: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Distinct rows and how often each occurs: the likelihood only needs each once, weighted."""
    stacked = np.column_stack(columns)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(np.float64)


def _hessian(f: Callable[[FloatArray], float], at: FloatArray, step: float = 1e-4) -> FloatArray:
    size = at.size
    h = np.zeros((size, size))
    for i in range(size):
        for j in range(i, size):
            e_i, e_j = np.eye(size)[i] * step, np.eye(size)[j] * step
            value = (
                f(at + e_i + e_j) - f(at + e_i - e_j) - f(at - e_i + e_j) + f(at - e_i - e_j)
            ) / (4 * step * step)
            h[i, j] = h[j, i] = value
    return h


def _fit(
    negative_ll: Callable[[FloatArray], float], names: tuple[str, ...], start: FloatArray, n: int
) -> Fit:
    """Minimise over log-parameters (keeps them positive); errors by the delta method."""
    result = minimize(negative_ll, start, method="L-BFGS-B")
    log_params = np.asarray(result.x, dtype=np.float64)
    params = np.exp(log_params)
    try:
        covariance = np.linalg.inv(_hessian(negative_ll, log_params))
        errors = params * np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    except np.linalg.LinAlgError:
        errors = np.full_like(params, np.nan)
    return Fit(
        params=dict(zip(names, params.tolist(), strict=True)),
        std_errors=dict(zip(names, errors.tolist(), strict=True)),
        log_likelihood=-float(result.fun),
        customers=n,
        converged=bool(result.success),
    )


def _bgnbd_ll(params: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return np.asarray(a1 + a2 + np.logaddexp(a3, a4), dtype=np.float64)


def fit_bgnbd(frequency: npt.ArrayLike, recency: npt.ArrayLike, age: npt.ArrayLike) -> Fit:
    """Fit BG/NBD (r, alpha, a, b) by maximum likelihood."""
    x, t_x, age_ = as_floats(frequency), as_floats(recency), as_floats(age)
    (ux, ut, ua), weights = _compress(x, t_x, age_)
    # Fit in units where the mean age is 1 (days or weeks alike), then scale alpha back.
    scale = float(np.mean(age_)) or 1.0

    def negative(log_params: FloatArray) -> float:
        ll = _bgnbd_ll(np.exp(log_params), ux, ut / scale, ua / scale)
        return -float(np.sum(weights * ll)) if np.all(np.isfinite(ll)) else 1e300

    fit = _fit(negative, ("r", "alpha", "a", "b"), np.zeros(4), int(x.size))
    params, errors = dict(fit.params), dict(fit.std_errors)
    params["alpha"] *= scale
    errors["alpha"] *= scale
    values = np.array([params[k] for k in ("r", "alpha", "a", "b")])
    log_likelihood = float(np.sum(weights * _bgnbd_ll(values, ux, ut, ua)))
    return Fit(params, errors, log_likelihood, fit.customers, fit.converged)


def bgnbd_alive(
    params: dict[str, float], frequency: npt.ArrayLike, recency: npt.ArrayLike, age: npt.ArrayLike
) -> FloatArray:
    """P(still a customer) given each customer's history."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x, t_x, big_t = as_floats(frequency), as_floats(recency), as_floats(age)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where(
            x > 0,
            (a / np.maximum(b + x - 1, 1e-300)) * ((alpha + big_t) / (alpha + t_x)) ** (r + x),
            0.0,
        )
    return np.asarray(1.0 / (1.0 + odds), dtype=np.float64)


def bgnbd_expected_purchases(
    params: dict[str, float],
    horizon: float,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    age: npt.ArrayLike,
) -> FloatArray:
    """Expected purchases in the next ``horizon`` time units given each customer's history."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x, big_t = as_floats(frequency), as_floats(age)
    t = float(horizon)
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
    first = (a + b + x - 1) / (a - 1)
    second = 1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp
    return np.asarray(first * second * bgnbd_alive(params, x, recency, big_t), dtype=np.float64)


def _gamma_gamma_ll(params: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    p, q, v = params
    return np.asarray(
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v),
        dtype=np.float64,
    )


def fit_gamma_gamma(frequency: npt.ArrayLike, monetary: npt.ArrayLike) -> Fit:
    """Fit Gamma-Gamma (p, q, v) on customers with at least one repeat purchase."""
    x, m = as_floats(frequency), as_floats(monetary)
    keep = (x > 0) & (m > 0)
    (ux, um), weights = _compress(x[keep], m[keep])
    scale = float(np.mean(m[keep])) if keep.any() else 1.0  # fit in units of the mean value

    def negative(log_params: FloatArray) -> float:
        ll = _gamma_gamma_ll(np.exp(log_params), ux, um / scale)
        return -float(np.sum(weights * ll)) if np.all(np.isfinite(ll)) else 1e300

    fit = _fit(negative, ("p", "q", "v"), np.zeros(3), int(keep.sum()))
    params, errors = dict(fit.params), dict(fit.std_errors)
    params["v"] *= scale
    errors["v"] *= scale
    values = np.array([params[k] for k in ("p", "q", "v")])
    log_likelihood = float(np.sum(weights * _gamma_gamma_ll(values, ux, um)))
    return Fit(params, errors, log_likelihood, fit.customers, fit.converged)


def gamma_gamma_expected_value(
    params: dict[str, float], frequency: npt.ArrayLike, monetary: npt.ArrayLike
) -> FloatArray:
    """Expected value of a customer's future purchase (population mean where x = 0)."""
    p, q, v = (params[k] for k in ("p", "q", "v"))
    x, m = as_floats(frequency), as_floats(monetary)
    return np.asarray((p * (v + x * m)) / (p * x + q - 1), dtype=np.float64)


def lifetime_value(
    bgnbd: dict[str, float],
    gamma_gamma: dict[str, float],
    history: tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike, npt.ArrayLike],
    *,
    periods: int = 12,
    period_length: float = 30.0,
    discount_rate: float = 0.01,
) -> FloatArray:
    """Discounted value of each customer's next ``periods`` periods: expected purchases in each
    period × expected value per purchase / (1 + discount_rate)^period."""
    frequency, recency, age, monetary = history
    value = gamma_gamma_expected_value(gamma_gamma, frequency, monetary)
    total = np.zeros_like(value)
    previous = np.zeros_like(value)
    for period in range(1, periods + 1):
        cumulative = bgnbd_expected_purchases(
            bgnbd, period * period_length, frequency, recency, age
        )
        total += (cumulative - previous) * value / (1 + discount_rate) ** period
        previous = cumulative
    return total
