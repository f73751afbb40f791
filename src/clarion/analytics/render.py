"""The JSON shape of a campaign's metrics, shared by the API and the CLI."""

from __future__ import annotations

from typing import Any

from clarion.analytics.contracts import CampaignMetrics, Estimate, TargetCheck


def _number(value: float | None) -> float | None:
    return None if value is None else round(value, 10)


def estimate_json(estimate: Estimate | None) -> dict[str, Any] | None:
    """Value, standard error, 95% interval and the unit count it rests on."""
    if estimate is None:
        return None
    return {
        "value": _number(estimate.value),
        "std_error": _number(estimate.std_error),
        "low": _number(estimate.low),
        "high": _number(estimate.high),
        "n": estimate.sums.n,
    }


def target_json(check: TargetCheck) -> dict[str, Any]:
    return {
        "metric": check.metric,
        "target": check.text,
        "comparator": check.comparator,
        "value": _number(check.target),
        "actual": estimate_json(check.actual),
        "expected_by_now": _number(check.expected_by_now),
        "pacing": _number(check.pacing),
        "status": check.status,
        "reason": check.reason,
    }


def campaign_metrics_json(result: CampaignMetrics) -> dict[str, Any]:
    """Everything in ``result`` as JSON-ready dicts and lists."""
    return {
        "campaign": {"id": result.campaign_id, "key": result.campaign_key},
        "by": list(result.by),
        "metrics": list(result.metrics),
        "since": None if result.since is None else result.since.isoformat(),
        "until": None if result.until is None else result.until.isoformat(),
        "elapsed": result.elapsed,
        "rows": [
            {
                "group": row.group,
                "metrics": {name: estimate_json(e) for name, e in row.metrics.items()},
            }
            for row in result.rows
        ],
        "targets": [target_json(check) for check in result.targets],
    }
