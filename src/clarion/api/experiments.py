"""Routes for /v1/experiments: create, start, expose, read results, decide, stop, roll out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, status
from pydantic import BaseModel, Field

from clarion.api.deps import InstanceDep, SecretKeyDep
from clarion.core.errors import StoreBusy
from clarion.experiments import service
from clarion.experiments.decisions import decide
from clarion.experiments.design import read_design
from clarion.experiments.serialise import (
    decision_json,
    experiment_json,
    results_json,
    stored_decision_json,
)
from clarion.instance import Instance
from clarion.stores.events import EventStore

router = APIRouter(prefix="/v1/experiments", tags=["experiments"])


class ExposuresIn(BaseModel):
    """Contacts about to be shown the experiment (e.g. the recipients of a send)."""

    contact_ids: list[str] = Field(max_length=service.MAX_EXPOSURES_PER_CALL)
    channel: str | None = Field(default=None, max_length=32)


class StopIn(BaseModel):
    reason: str = Field(default="", max_length=1000)


class RolloutIn(BaseModel):
    """Roll out the winner, or name another variant and say why."""

    variant: str | None = Field(default=None, max_length=200)
    reason: str = Field(default="", max_length=1000)


def _actor(key: SecretKeyDep) -> str:
    return f"api-key:{key.id}"


def _events(instance: Instance) -> EventStore:
    if instance.events is None:
        raise StoreBusy("this server does not own the event store; results need it")
    return instance.events


@router.post("", status_code=status.HTTP_201_CREATED)
def create_experiment(
    body: Annotated[dict[str, Any], Body(description="an experiment design, see docs")],
    instance: InstanceDep,
    key: SecretKeyDep,
) -> dict[str, Any]:
    """Create a draft experiment on a campaign; its sample size and stopping rule are derived."""
    design = read_design(body)
    created = service.create_experiment(
        instance.store,
        key.workspace_id,
        design,
        clock=instance.clock,
        ids=instance.ids,
        actor=_actor(key),
    )
    return experiment_json(created)


@router.get("")
def list_experiments(
    instance: InstanceDep, key: SecretKeyDep, campaign: str | None = None
) -> dict[str, Any]:
    """The workspace's experiments, newest first; ``campaign`` (id or key) narrows them."""
    found = service.list_experiments(instance.store, key.workspace_id, campaign)
    return {"experiments": [experiment_json(e) for e in found]}


@router.get("/{ref}")
def get_experiment(ref: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """One experiment by id or key."""
    return experiment_json(service.get_experiment(instance.store, key.workspace_id, ref))


@router.post("/{ref}/start")
def start_experiment(ref: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Start exposing contacts: draft → running."""
    started = service.start(
        instance.store, key.workspace_id, ref, clock=instance.clock, actor=_actor(key)
    )
    return experiment_json(started)


@router.post("/{ref}/exposures")
def expose(ref: str, body: ExposuresIn, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Assign each contact its variant and record the exposure; returns the assignments."""
    assigned = service.expose(
        instance.store,
        _events(instance),
        key.workspace_id,
        ref,
        body.contact_ids,
        clock=instance.clock,
        channel=body.channel,
    )
    return {"assignments": assigned}


@router.get("/{ref}/results")
def results(ref: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Results read now, with what the decision rule would say (nothing is stored)."""
    found = service.results(
        instance.store, _events(instance), key.workspace_id, ref, clock=instance.clock
    )
    return {**results_json(found), "decision": decision_json(decide(found))}


@router.post("/{ref}/decisions", status_code=status.HTTP_201_CREATED)
def record_decision(ref: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Decide from the results read now and keep the decision with its inputs."""
    stored = service.record_decision(
        instance.store,
        _events(instance),
        key.workspace_id,
        ref,
        clock=instance.clock,
        ids=instance.ids,
        actor=_actor(key),
    )
    return stored_decision_json(stored)


@router.get("/{ref}/decisions")
def list_decisions(ref: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Every stored decision of the experiment, oldest first."""
    found = service.decisions(instance.store, key.workspace_id, ref)
    return {"decisions": [stored_decision_json(d) for d in found]}


@router.post("/{ref}/stop")
def stop_experiment(
    ref: str, body: StopIn, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """Stop exposing (running → stopped) and store the final decision."""
    stored = service.stop(
        instance.store,
        _events(instance),
        key.workspace_id,
        ref,
        clock=instance.clock,
        ids=instance.ids,
        actor=_actor(key),
        reason=body.reason,
    )
    return stored_decision_json(stored)


@router.post("/{ref}/rollout")
def rollout_experiment(
    ref: str, body: RolloutIn, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """Roll out the winner (or a named variant, with a reason): stopped → rolled out."""
    rolled = service.rollout(
        instance.store,
        key.workspace_id,
        ref,
        clock=instance.clock,
        actor=_actor(key),
        variant=body.variant,
        reason=body.reason,
    )
    return experiment_json(rolled)
