"""Routes for /v1/campaigns/{ref}/budget: units, policy, split, recommend, apply, history."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter
from pydantic import BaseModel, Field

from clarion.api.deps import InstanceDep, SecretKeyDep
from clarion.core.errors import StoreBusy
from clarion.optimize import service
from clarion.optimize.contracts import BudgetPolicy, UnitSpec
from clarion.optimize.serialise import change_json, recommendation_json, state_json

router = APIRouter(prefix="/v1/campaigns", tags=["budget"])


class UnitsIn(BaseModel):
    """The campaign's allocation units; replaces the previous set."""

    units: list[UnitSpec] = Field(max_length=service.MAX_UNITS)


class RecommendIn(BaseModel):
    seed: int | None = Field(default=None, description="for a reproducible recommendation")


def _actor(key: SecretKeyDep) -> str:
    return f"api-key:{key.id}"


@router.get("/{ref}/budget")
def show(ref: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """The budget: total, dates, units and bounds, policy, and the split now applied."""
    return state_json(service.budget_state(instance.store, key.workspace_id, ref))


@router.put("/{ref}/budget/units")
def put_units(ref: str, body: UnitsIn, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Declare the allocation units (channel × ad set × audience) with daily bounds."""
    state = service.set_units(
        instance.store, key.workspace_id, ref, body.units, clock=instance.clock, ids=instance.ids
    )
    return state_json(state)


@router.put("/{ref}/budget/policy")
def put_policy(
    ref: str, body: BudgetPolicy, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """Set the objective, the mode (recommend or auto) and the guard rails."""
    state = service.set_policy(
        instance.store, key.workspace_id, ref, body, clock=instance.clock, actor=_actor(key)
    )
    return state_json(state)


@router.post("/{ref}/budget/recommend")
def recommend(
    ref: str, body: RecommendIn, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """Tomorrow's split from the spend and conversions so far, with its expected effect."""
    if instance.events is None:
        raise StoreBusy("this server does not own the event store; recommendations need it")
    seen = service.observed(
        instance.store, instance.events, key.workspace_id, ref, now=instance.clock.now()
    )
    change, rec = service.recommend(
        instance.store,
        key.workspace_id,
        ref,
        seen,
        clock=instance.clock,
        ids=instance.ids,
        rng=np.random.default_rng(body.seed),
    )
    return recommendation_json(change, rec)


@router.post("/{ref}/budget/changes/{change_id}/apply")
def apply(ref: str, change_id: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Approve a recommended split: it becomes the current one."""
    change = service.apply(
        instance.store, key.workspace_id, ref, change_id, clock=instance.clock, actor=_actor(key)
    )
    return change_json(change)


@router.post("/{ref}/budget/changes/{change_id}/revert")
def revert(ref: str, change_id: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Undo an applied change: the split before it is applied again, and logged."""
    change = service.revert(
        instance.store,
        key.workspace_id,
        ref,
        change_id,
        clock=instance.clock,
        ids=instance.ids,
        actor=_actor(key),
    )
    return change_json(change)


@router.get("/{ref}/budget/history")
def history(ref: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Every split proposed or applied, newest first."""
    changes = service.history(instance.store, key.workspace_id, ref)
    return {"changes": [change_json(c) for c in changes]}
