"""Routes for /v1/personas: buyer personas (create, read, list, replace, delete)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from clarion.api.deps import InstanceDep, SecretKeyDep
from clarion.audiences.persona_store import (
    delete_persona,
    get_persona,
    list_personas,
    save_persona,
)
from clarion.audiences.personas import Persona, parse_persona
from clarion.audiences.segments import load_json
from clarion.core.errors import FieldProblem, InvalidInput

router = APIRouter(prefix="/v1/personas", tags=["personas"])

PERSONA_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": Persona.model_json_schema()}},
    }
}


@router.post("", openapi_extra=PERSONA_BODY, status_code=status.HTTP_201_CREATED)
async def create(request: Request, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Store a new persona; 409 if its key is taken, 422 with paths if a field is wrong."""
    persona = parse_persona(load_json(await request.body(), source="request"))
    change = save_persona(
        instance.store,
        key.workspace_id,
        persona,
        clock=instance.clock,
        ids=instance.ids,
        create_only=True,
    )
    return change.persona.as_data()


@router.get("")
def list_all(instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """The workspace's personas, by key."""
    return {"personas": [p.as_data() for p in list_personas(instance.store, key.workspace_id)]}


@router.get("/{ref}")
def show(ref: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """One persona by id or key."""
    return get_persona(instance.store, key.workspace_id, ref).as_data()


@router.put("/{ref}", openapi_extra=PERSONA_BODY)
async def put(
    ref: str, request: Request, response: Response, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """Create or replace the persona with key ``ref``; the version grows when it changes."""
    data = load_json(await request.body(), source="request")
    if isinstance(data, dict):
        data.setdefault("key", ref)
    persona = parse_persona(data)
    if persona.key != ref:
        problem = f"the body's key {persona.key!r} differs from {ref[:64]!r}"
        raise InvalidInput(problem, [FieldProblem("key", problem)])
    change = save_persona(
        instance.store, key.workspace_id, persona, clock=instance.clock, ids=instance.ids
    )
    if change.action == "created":
        response.status_code = status.HTTP_201_CREATED
    return {**change.persona.as_data(), "action": change.action}


@router.delete("/{ref}")
def remove(ref: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Delete a persona that no segment uses (409 naming them otherwise)."""
    return {"deleted": delete_persona(instance.store, key.workspace_id, ref).persona.key}
