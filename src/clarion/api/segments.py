"""Routes for /v1/segments: stored segments (CRUD, preview, membership) and ad-hoc previews."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from clarion.api.deps import InstanceDep, SecretKeyDep
from clarion.audiences.pii import ROLES
from clarion.audiences.retargeting import export_segment
from clarion.audiences.segments import load_json, preview
from clarion.audiences.segments.membership import current_members, refresh_segment, transitions
from clarion.audiences.segments.request import preview_request
from clarion.audiences.segments.store import (
    delete_segment,
    get_segment,
    list_segments,
    save_segment,
    workspace_context,
)
from clarion.audiences.segments.stored import segment_input
from clarion.audiences.segments.stored_preview import preview_stored
from clarion.core.errors import FieldProblem, InvalidInput, StoreBusy
from clarion.instance import Instance
from clarion.stores.events import EventStore

router = APIRouter(prefix="/v1/segments", tags=["segments"])

_RULE = {"type": "object", "description": "see docs/segments.md"}
_TYPES = {
    "type": "object",
    "additionalProperties": {"enum": ["string", "number", "boolean", "date"]},
}
PREVIEW_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["rule"],
                    "properties": {
                        "rule": _RULE,
                        "attribute_types": _TYPES,
                        "sample": {"type": "integer", "minimum": 0, "default": 10},
                    },
                }
            }
        },
    }
}
SEGMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["rule"],
                    "properties": {
                        "key": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
                        "name": {"type": "string", "maxLength": 200},
                        "description": {"type": "string", "maxLength": 2000},
                        "rule": _RULE,
                        "attribute_types": _TYPES,
                    },
                }
            }
        },
    }
}
Sample = Annotated[int, Query(ge=0, le=100, description="How many members to show.")]
Role = Annotated[
    str, Query(description=f"Mask the sample's personal fields for this role: {', '.join(ROLES)}.")
]


def _events(instance: Instance) -> EventStore:
    if instance.events is None:
        raise StoreBusy("this server does not own the event store")
    return instance.events


async def _body(request: Request) -> Any:
    # Read raw: the segment reader refuses a 10,000-deep tree with its path, where a generic
    # JSON parser would hit the recursion limit first.
    return load_json(await request.body(), source="request")


@router.post("/preview", openapi_extra=PREVIEW_BODY)
async def preview_segment(
    request: Request, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """Count the contacts a rule selects now, with a sample of their ids (nothing is saved)."""
    wanted = preview_request(await _body(request))
    context = workspace_context(
        instance.store, key.workspace_id, attribute_types=wanted.context.attribute_types
    )
    found = preview(
        _events(instance),
        key.workspace_id,
        wanted.rule,
        now=instance.clock.now(),
        context=context,
        sample=wanted.sample,
    )
    return {"count": found.count, "sample": list(found.sample_contact_ids)}


@router.post("", openapi_extra=SEGMENT_BODY, status_code=status.HTTP_201_CREATED)
async def create(request: Request, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Store a new segment; 409 if its key is taken, 422 with paths if its rule is unsound."""
    item = segment_input(await _body(request))
    change = save_segment(
        instance.store,
        key.workspace_id,
        item,
        clock=instance.clock,
        ids=instance.ids,
        create_only=True,
    )
    return change.segment.as_data()


@router.get("")
def list_all(instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """The workspace's segments, by key."""
    found = list_segments(instance.store, key.workspace_id)
    return {"segments": [segment.as_data() for segment in found]}


@router.get("/{ref}")
def show(ref: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """One segment by id or key."""
    return get_segment(instance.store, key.workspace_id, ref).as_data()


@router.put("/{ref}", openapi_extra=SEGMENT_BODY)
async def put(
    ref: str, request: Request, response: Response, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """Create or replace the segment with key ``ref``; the version grows when it changes."""
    item = segment_input(await _body(request), key=_key_of(instance, key.workspace_id, ref))
    change = save_segment(
        instance.store, key.workspace_id, item, clock=instance.clock, ids=instance.ids
    )
    if change.action == "created":
        response.status_code = status.HTTP_201_CREATED
    return {**change.segment.as_data(), "action": change.action}


@router.delete("/{ref}")
def remove(ref: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Delete a segment that no other segment or persona uses (409 naming them otherwise)."""
    deleted = delete_segment(instance.store, key.workspace_id, ref)
    return {"deleted": deleted.key}


@router.post("/{ref}/preview")
def preview_one(
    ref: str, instance: InstanceDep, key: SecretKeyDep, sample: Sample = 10, role: Role = "admin"
) -> dict[str, Any]:
    """Count a stored segment's members now, with a sample masked for ``role``."""
    if role not in ROLES:
        problem = f"unknown role {role[:40]!r}; roles: {', '.join(ROLES)}"
        raise InvalidInput(problem, [FieldProblem("role", problem)])
    return preview_stored(
        instance.store,
        _events(instance),
        key.workspace_id,
        ref,
        now=instance.clock.now(),
        role=role,
        sample=sample,
    )


@router.post("/{ref}/refresh")
def refresh(ref: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Evaluate the segment now and record who entered and who left since the last refresh."""
    done = refresh_segment(
        instance.store, _events(instance), key.workspace_id, ref, now=instance.clock.now()
    )
    return {
        "segment": done.segment_key,
        "version": done.segment_version,
        "at": done.at.isoformat(),
        "entered": done.entered,
        "exited": done.exited,
        "members": done.members,
    }


Limit = Annotated[int, Query(ge=0, le=10_000, description="At most this many rows.")]


@router.get("/{ref}/members")
def members(
    ref: str, instance: InstanceDep, key: SecretKeyDep, limit: Limit = 1000
) -> dict[str, Any]:
    """The members as of the last refresh, with when each entered (ids only: no personal data)."""
    count, rows = current_members(
        instance.store,
        _events(instance),
        key.workspace_id,
        ref,
        now=instance.clock.now(),
        limit=limit,
    )
    return {
        "count": count,
        "members": [{"contact_id": c, "entered_at": at.isoformat()} for c, at in rows],
    }


@router.get("/{ref}/transitions")
def history(
    ref: str,
    instance: InstanceDep,
    key: SecretKeyDep,
    since: Annotated[
        datetime | None, Query(description="Only transitions after this instant.")
    ] = None,
    limit: Limit = 1000,
) -> dict[str, Any]:
    """Entries and exits, oldest first: what a journey triggered on entry reads."""
    if since is not None and since.tzinfo is None:
        problem = "give an instant with a zone, e.g. 2027-03-01T00:00:00Z"
        raise InvalidInput(f"since: {problem}", [FieldProblem("since", problem)])
    found = transitions(
        instance.store, _events(instance), key.workspace_id, ref, since=since, limit=limit
    )
    return {
        "transitions": [
            {"contact_id": t.contact_id, "change": t.change, "ts": t.ts.isoformat()} for t in found
        ]
    }


@router.post(
    "/{ref}/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the customer-match file"}},
)
def export(
    ref: str,
    instance: InstanceDep,
    key: SecretKeyDep,
    platform: Annotated[
        str, Query(alias="format", description="google, meta or linkedin (customer match).")
    ],
) -> Response:
    """The segment as a customer-match CSV (hashed email and phone) for an ad platform: only
    contacts who consented to ads personalisation and are not suppressed. Headers
    X-Clarion-Exported and X-Clarion-Excluded (JSON counts by reason) report the rest."""
    text, report = export_segment(
        instance.store,
        _events(instance),
        key.workspace_id,
        ref,
        platform,
        now=instance.clock.now(),
    )
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{report.segment}-{platform}.csv"',
            "X-Clarion-Exported": str(report.exported),
            "X-Clarion-Excluded": json.dumps(report.excluded, separators=(",", ":")),
        },
    )


def _key_of(instance: Instance, workspace_id: str, ref: str) -> str:
    """The key of the segment ``ref`` names (an id names an existing one), else ``ref``."""
    if ref.startswith("sg_"):
        return get_segment(instance.store, workspace_id, ref).key
    return ref
