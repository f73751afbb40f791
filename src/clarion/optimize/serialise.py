"""Budget objects as JSON for the API and the CLI's --json."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from clarion.optimize.contracts import BudgetChange, BudgetState, Recommendation


def change_json(change: BudgetChange) -> dict[str, Any]:
    """One split change: who, when, why, status, the split and what it was expected to do."""
    return {
        "id": change.id,
        "at": change.at.isoformat(),
        "actor": change.actor,
        "status": change.status,
        "reason": change.reason,
        "split": {k: str(v) for k, v in change.split.items()},
        "expected": change.expected,
        "reverts": change.reverts,
        "applied_at": change.applied_at.isoformat() if change.applied_at else None,
        "applied_by": change.applied_by,
    }


def state_json(state: BudgetState) -> dict[str, Any]:
    """The campaign's budget: total, dates, units with bounds, policy, current split."""
    return {
        "campaign_id": state.campaign_id,
        "currency": state.currency,
        "total": str(state.total),
        "start_date": state.start_date.isoformat(),
        "end_date": state.end_date.isoformat(),
        "units": [
            {"unit": u.name, "min_daily": str(u.min_daily), "max_daily": str(u.max_daily)}
            for u in state.units
        ],
        "policy": state.policy.model_dump(mode="json"),
        "current": None if state.current is None else change_json(state.current),
    }


def recommendation_json(change: BudgetChange, rec: Recommendation) -> dict[str, Any]:
    """A recommended split with its expected effect and 90% interval, notes and alerts."""
    return {
        "change": change_json(change),
        "daily_total": str(rec.daily_total),
        "expected": None if rec.expected is None else asdict(rec.expected),
        "frozen": rec.frozen,
        "notes": list(rec.notes),
        "alerts": [asdict(a) for a in rec.alerts],
    }
