"""The JSON shapes of funnels, cohorts, paths, attribution and CLV, shared by the API and CLI."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from clarion.analytics.attribution import Attribution
from clarion.analytics.cohorts import Cohort
from clarion.analytics.contracts import CampaignPeople
from clarion.analytics.funnels import Funnel
from clarion.analytics.paths import PathCount
from clarion.analytics.value import CustomerValue
from clarion.stats.clv import Fit

Z95 = 1.959963984540054


def _number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 10)


def people_json(people: CampaignPeople) -> dict[str, Any]:
    """The campaign followed and the instants counted."""
    return {
        "campaign": {"id": people.campaign_id, "key": people.campaign_key},
        "since": None if people.since is None else people.since.isoformat(),
        "until": None if people.until is None else people.until.isoformat(),
    }


def funnel_json(funnel: Funnel) -> dict[str, Any]:
    """Each step's people, drop-off and rate from the step before (Wilson 95%), the bottleneck."""
    steps = [
        {
            "step": s.step.label,
            "type": s.step.type,
            "url_contains": s.step.url_contains,
            "reached": s.reached,
            "dropped": s.dropped,
            "rate": _number(s.rate),
            "low": _number(s.low),
            "high": _number(s.high),
        }
        for s in funnel.steps
    ]
    bottleneck = funnel.bottleneck
    return {
        "window_seconds": int(funnel.window.total_seconds()),
        "steps": steps,
        "bottleneck": None
        if bottleneck is None
        else {"index": bottleneck, "step": funnel.steps[bottleneck].step.label},
    }


def cohorts_json(cohorts: list[Cohort]) -> dict[str, Any]:
    """Each first-touch week's size and weekly retention with Wilson 95% intervals."""
    return {
        "cohorts": [
            {
                "week": c.week.isoformat(),
                "size": c.size,
                "retention": [
                    {
                        "offset": cell.offset,
                        "active": cell.active,
                        "rate": _number(cell.rate),
                        "low": _number(cell.low),
                        "high": _number(cell.high),
                    }
                    for cell in c.retention
                ],
            }
            for c in cohorts
        ]
    }


def _paths(found: list[PathCount]) -> list[dict[str, Any]]:
    return [
        {
            "path": list(p.path),
            "people": p.people,
            "share": _number(p.share),
            "low": _number(p.low),
            "high": _number(p.high),
        }
        for p in found
    ]


def paths_json(found: list[PathCount], left: list[PathCount]) -> dict[str, Any]:
    """Paths to a first conversion and the exits of people who never converted."""
    return {"paths": _paths(found), "exits": _paths(left)}


def attribution_json(result: Attribution, models: Sequence[str]) -> dict[str, Any]:
    """Conversions and revenue credited per label under each model in ``models``."""
    return {
        "conversions": result.conversions,
        "revenue": _number(result.revenue),
        "lookback_seconds": int(result.lookback.total_seconds()),
        "conversion_probability": _number(result.conversion_probability),
        "models": {
            model: [
                {
                    "label": c.label,
                    "conversions": _number(c.conversions),
                    "revenue": _number(c.revenue),
                }
                for c in result.models[model]
            ]
            for model in models
        },
    }


def _fit(fit: Fit) -> dict[str, Any]:
    return {
        "params": {k: _number(v) for k, v in fit.params.items()},
        "std_errors": {k: _number(v) for k, v in fit.std_errors.items()},
        "log_likelihood": _number(fit.log_likelihood),
        "customers": fit.customers,
        "converged": fit.converged,
    }


def clv_json(result: CustomerValue) -> dict[str, Any]:
    """The fitted BG/NBD and Gamma-Gamma models and the customers' mean value (95% interval)."""
    half = Z95 * result.std_error
    return {
        "customers": result.customers,
        "mean_value": _number(result.mean_value),
        "std_error": _number(result.std_error),
        "low": _number(max(result.mean_value - half, 0.0)),
        "high": _number(result.mean_value + half),
        "total_value": _number(result.total_value),
        "horizon_periods": result.horizon_periods,
        "period_seconds": int(result.period.total_seconds()),
        "bgnbd": _fit(result.bgnbd),
        "gamma_gamma": _fit(result.gamma_gamma),
    }
