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
    # Tighter than scipy's default ftol: parameters should agree to well below 1e-3.
    result = minimize(negative_ll, start, method="L-BFGS-B", options={"ftol": 1e-13, "gtol": 1e-8})
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


@dataclass(frozen=True)
class _History:
    """Customers' (x, t_x, T), with the distinct purchase counts found once."""

    x: FloatArray
    t_x: FloatArray
    age: FloatArray
    counts: FloatArray  # distinct values of x
    where: npt.NDArray[np.intp]  # x == counts[where]
    ages: FloatArray  # distinct values of T (often one per cohort)
    age_where: npt.NDArray[np.intp]
    buyers: npt.NDArray[np.intp]  # rows with x > 0

    @classmethod
    def of(cls, x: FloatArray, t_x: FloatArray, age: FloatArray) -> _History:
        counts, where = np.unique(x, return_inverse=True)
        ages, age_where = np.unique(age, return_inverse=True)
        return cls(x, t_x, age, counts, where, ages, age_where, np.flatnonzero(x > 0))


def _bgnbd_ll(params: FloatArray, history: _History, unit: float = 1.0) -> FloatArray:
    r, alpha, a, b = params
    x, t_x = history.x, history.t_x / unit
    # Terms in x alone are computed once per distinct purchase count (a handful of values).
    counts, where = history.counts, history.where
    a1 = (gammaln(r + counts) - gammaln(r) + r * np.log(alpha))[where]
    a2 = (betaln(a, b + counts) - betaln(a, b))[where]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(a) - np.log(np.maximum(b + counts - 1, 1e-300))
    a3 = -(r + x) * np.log(alpha + history.ages / unit)[history.age_where]
    ll = a1 + a2 + a3
    # Repeat buyers may also have dropped out after their last purchase: add that branch.
    buyers = history.buyers
    a4 = ratio[where[buyers]] - (r + x[buyers]) * np.log(alpha + t_x[buyers])
    ll[buyers] = (a1 + a2)[buyers] + np.logaddexp(a3[buyers], a4)
    return np.asarray(ll, dtype=np.float64)


def fit_bgnbd(frequency: npt.ArrayLike, recency: npt.ArrayLike, age: npt.ArrayLike) -> Fit:
    """Fit BG/NBD (r, alpha, a, b) by maximum likelihood."""
    x, t_x, age_ = as_floats(frequency), as_floats(recency), as_floats(age)
    history = _History.of(x, t_x, age_)
    # Fit in units where the mean age is 1 (days or weeks alike), then scale alpha back.
    scale = float(np.mean(age_)) or 1.0

    def negative(log_params: FloatArray) -> float:
        ll = _bgnbd_ll(np.exp(log_params), history, scale)
        return -float(np.sum(ll)) if np.all(np.isfinite(ll)) else 1e300

    fit = _fit(negative, ("r", "alpha", "a", "b"), np.zeros(4), int(x.size))
    params, errors = dict(fit.params), dict(fit.std_errors)
    params["alpha"] *= scale
    errors["alpha"] *= scale
    values = np.array([params[k] for k in ("r", "alpha", "a", "b")])
    log_likelihood = float(np.sum(_bgnbd_ll(values, history)))
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


@dataclass(frozen=True)
class _Spend:
    """Repeat buyers' (x, m) with log m and the distinct purchase counts found once."""

    x: FloatArray
    m: FloatArray
    log_m: FloatArray
    counts: FloatArray
    where: npt.NDArray[np.intp]

    @classmethod
    def of(cls, x: FloatArray, m: FloatArray) -> _Spend:
        counts, where = np.unique(x, return_inverse=True)
        return cls(x, m, np.log(m), counts, where)


def _gamma_gamma_ll(params: FloatArray, spend: _Spend, unit: float = 1.0) -> FloatArray:
    p, q, v = params
    k = spend.counts
    per_count = gammaln(p * k + q) - gammaln(p * k) - gammaln(q) + p * k * np.log(k)
    px = p * spend.x
    log_m = spend.log_m - np.log(unit)
    return np.asarray(
        per_count[spend.where]
        + q * np.log(v)
        + (px - 1) * log_m
        - (px + q) * np.log(spend.x * spend.m / unit + v),
        dtype=np.float64,
    )


def fit_gamma_gamma(frequency: npt.ArrayLike, monetary: npt.ArrayLike) -> Fit:
    """Fit Gamma-Gamma (p, q, v) on customers with at least one repeat purchase."""
    x, m = as_floats(frequency), as_floats(monetary)
    keep = (x > 0) & (m > 0)
    spend = _Spend.of(x[keep], m[keep])
    scale = float(np.mean(m[keep])) if keep.any() else 1.0  # fit in units of the mean value

    def negative(log_params: FloatArray) -> float:
        ll = _gamma_gamma_ll(np.exp(log_params), spend, scale)
        return -float(np.sum(ll)) if np.all(np.isfinite(ll)) else 1e300

    fit = _fit(negative, ("p", "q", "v"), np.zeros(3), int(keep.sum()))
    params, errors = dict(fit.params), dict(fit.std_errors)
    params["v"] *= scale
    errors["v"] *= scale
    values = np.array([params[k] for k in ("p", "q", "v")])
    log_likelihood = float(np.sum(_gamma_gamma_ll(values, spend)))
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
