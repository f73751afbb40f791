"""Results and decisions as JSON-ready dicts (NaN and infinity become null)."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime
from typing import Any

from clarion.experiments.contracts import (
    Comparison,
    Decision,
    Experiment,
    ExperimentResults,
    StoredDecision,
)


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def comparison_json(c: Comparison) -> dict[str, Any]:
    data: dict[str, Any] = _clean(dataclasses.asdict(c))
    data["improves"], data["worsens"] = c.improves, c.worsens
    return data


def results_json(results: ExperimentResults) -> dict[str, Any]:
    """The results as the API returns them and a stored decision keeps them."""
    return {
        "experiment": results.experiment_key,
        "at": results.at.isoformat(),
        "method": results.method,
        "alpha": results.alpha,
        "correction": results.correction,
        "planned_sample_size": results.planned_sample_size,
        "exposed": results.exposed,
        "information_fraction": _clean(results.information_fraction),
        "looks": _clean(list(results.looks)),
        "arms": [_clean(dataclasses.asdict(a)) for a in results.arms],
        "srm": _clean(dataclasses.asdict(results.srm)),
        "multivariate": results.multivariate,
        "primary": [comparison_json(c) for c in results.primary],
        "guardrails": [comparison_json(c) for c in results.guardrails],
    }


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "outcome": decision.outcome,
        "winner": decision.winner,
        "explanation": decision.explanation,
        "details": list(decision.details),
    }


def stored_decision_json(d: StoredDecision) -> dict[str, Any]:
    return {
        "id": d.id,
        "at": d.at.isoformat(),
        "outcome": d.outcome,
        "winner": d.winner,
        "explanation": d.explanation,
        "actor": d.actor,
        "inputs": d.inputs,
        "results": d.results,
    }


def experiment_json(e: Experiment) -> dict[str, Any]:
    return {
        "id": e.id,
        "key": e.key,
        "campaign_id": e.campaign_id,
        "state": e.state.value,
        "design": e.design.model_dump(mode="json"),
        "plan": e.plan.model_dump(mode="json"),
        "started_at": _clean(e.started_at),
        "stopped_at": _clean(e.stopped_at),
        "rolled_out_variant": e.rolled_out_variant,
        "created_at": e.created_at.isoformat(),
    }
