"""The report as JSON: a stable, documented schema (``clarion.report/1``, see docs/reports.md)."""

from __future__ import annotations

import math
from typing import Any, Final

from clarion.reports.contracts import HypothesisResult, Interval, KpiResult, Report

SCHEMA: Final = "clarion.report/1"


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _interval(measured: Interval | None) -> dict[str, Any] | None:
    if measured is None:
        return None
    return {
        "value": _number(measured.value),
        "low": _number(measured.low),
        "high": _number(measured.high),
        "n": measured.n,
    }


def _kpi(k: KpiResult) -> dict[str, Any]:
    return {
        "metric": k.metric,
        "target": k.text,
        "target_value": k.target,
        "expected_by_now": _number(k.expected_by_now),
        "actual": _interval(k.actual),
        "pacing": _number(k.pacing),
        "verdict": k.verdict,
        "reason": k.reason,
    }


def _hypothesis(h: HypothesisResult) -> dict[str, Any]:
    return {
        "id": f"hypothesis-{h.key}",
        "key": h.key,
        "statement": h.statement,
        "metric": h.metric,
        "expected": h.expected,
        "min_ratio": h.min_ratio,
        "groups": [{"group": g.group, "measured": _interval(g.measured)} for g in h.groups],
        "ratio": _interval(h.ratio),
        "verdict": h.verdict,
        "reason": h.reason,
    }


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def report_json(report: Report) -> dict[str, Any]:
    """The report as plain JSON types; keys are never renamed within a schema version."""
    return {
        "schema": SCHEMA,
        "campaign": {
            "id": report.campaign_id,
            "key": report.campaign_key,
            "name": report.name,
            "objective": report.objective,
            "state": report.state,
            "start_date": report.start_date.isoformat(),
            "end_date": report.end_date.isoformat(),
            "currency": report.currency,
            "budget_total": report.budget_total,
        },
        "generated_at": report.generated_at.isoformat(),
        "elapsed": report.elapsed,
        "kpis": [_kpi(k) for k in report.kpis],
        "hypotheses": [_hypothesis(h) for h in report.hypotheses],
        "findings": [
            {
                "id": f.id,
                "kind": f.kind,
                "title": f.title,
                "detail": f.detail,
                "evidence": _clean(f.evidence),
            }
            for f in report.findings
        ],
        "recommendations": [
            {"id": r.id, "action": r.action, "text": r.text, "evidence": list(r.evidence)}
            for r in report.recommendations
        ],
        "learnings": [
            {"key": item.key, "text": item.text, "evidence": list(item.evidence)}
            for item in report.learnings
        ],
        "notes": [{"section": n.section, "text": n.text} for n in report.notes],
        "charts": _clean(report.charts),
    }
