"""Routes for /v1/segments: preview a rule's size and first members before saving it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from clarion.api.deps import InstanceDep, SecretKeyDep
from clarion.audiences.segments import load_json, preview
from clarion.audiences.segments.request import preview_request

router = APIRouter(prefix="/v1/segments", tags=["segments"])

PREVIEW_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["rule"],
                    "properties": {
                        "rule": {"type": "object", "description": "see docs/segments.md"},
                        "attribute_types": {
                            "type": "object",
                            "additionalProperties": {
                                "enum": ["string", "number", "boolean", "date"]
                            },
                        },
                        "sample": {"type": "integer", "minimum": 0, "default": 10},
                    },
                }
            }
        },
    }
}


@router.post("/preview", openapi_extra=PREVIEW_BODY)
async def preview_segment(
    request: Request, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """Count the contacts a rule selects now, with a sample of their ids (nothing is saved)."""
    # The body is read raw: the segment reader refuses a 10,000-deep tree with its path,
    # where a generic JSON parser would hit the recursion limit first.
    data = load_json(await request.body(), source="request")
    wanted = preview_request(data)
    if instance.events is None:
        raise RuntimeError("this server does not own the event store")
    found = preview(
        instance.events,
        key.workspace_id,
        wanted.rule,
        now=instance.clock.now(),
        context=wanted.context,
        sample=wanted.sample,
    )
    return {"count": found.count, "sample": list(found.sample_contact_ids)}
