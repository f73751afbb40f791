"""Routes for /v1/contacts: batch upsert, read as a role, record consent, erase on request.

API keys carry no role yet: a secret key acts as ``admin``. A caller that shows contacts to
someone with less right (an analyst's dashboard) sends ``X-Clarion-Role: analyst`` (or
``?role=analyst``) and gets what that role may see; a role can only lower what is shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from clarion.api.deps import InstanceDep, SecretKeyDep
from clarion.api.tracking import parse_body
from clarion.audiences import service as contacts
from clarion.audiences.contracts import CHANNELS, PROOF_KINDS, PURPOSES
from clarion.audiences.pii import ROLES
from clarion.core.errors import FieldProblem, InvalidInput, StoreBusy, TooLarge
from clarion.instance import Instance
from clarion.stores.events import EventStore

router = APIRouter(prefix="/v1/contacts", tags=["contacts"])
ROLE_HEADER = "X-Clarion-Role"

CONTACT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A contact; matched by external_id, then email (one of them is required).",
    "properties": {
        "external_id": {"type": "string", "maxLength": 128},
        "email": {"type": "string", "maxLength": 254},
        "phone": {"type": "string", "description": "E.164, or national with a country"},
        "first_name": {"type": "string", "maxLength": 100},
        "last_name": {"type": "string", "maxLength": 100},
        "address_line1": {"type": "string", "maxLength": 200},
        "address_line2": {"type": "string", "maxLength": 200},
        "postal_code": {"type": "string", "maxLength": 20},
        "city": {"type": "string", "maxLength": 100},
        "region": {"type": "string", "maxLength": 100},
        "country": {"type": "string", "example": "DE"},
        "persona": {"type": "string"},
        "lifecycle_stage": {"type": "string"},
        "attributes": {"type": "object", "maxProperties": 50},
        "consents": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "oneOf": [
                    {"type": "string", "example": "marketing:email"},
                    {
                        "type": "object",
                        "required": ["purpose", "channel"],
                        "properties": {
                            "purpose": {"type": "string", "enum": list(PURPOSES)},
                            "channel": {"type": "string", "enum": list(CHANNELS)},
                            "status": {"type": "string", "enum": ["granted", "withdrawn"]},
                            "at": {"type": "string", "format": "date-time"},
                            "proof": {
                                "type": "object",
                                "properties": {
                                    "kind": {"type": "string", "enum": list(PROOF_KINDS)},
                                    "ref": {"type": "string", "maxLength": 500},
                                },
                            },
                        },
                    },
                ]
            },
        },
    },
}
UPSERT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["contacts"],
                    "properties": {
                        "contacts": {
                            "type": "array",
                            "maxItems": contacts.MAX_UPSERT,
                            "items": CONTACT_SCHEMA,
                        }
                    },
                }
            }
        },
    }
}


def _events(instance: Instance) -> EventStore:
    if instance.events is None:
        raise StoreBusy("this server does not own the event store; contacts cannot change here")
    return instance.events


def _role(header: str | None, query: str | None) -> str:
    role = query or header or "admin"
    if role not in ROLES:
        problem = f"unknown role {role[:40]!r}; roles: {', '.join(ROLES)}"
        raise InvalidInput(problem, [FieldProblem("role", problem)])
    return role


RoleHeader = Annotated[
    str | None,
    Header(
        alias=ROLE_HEADER,
        description="Show the contact as this role sees it (default admin: a secret key's).",
    ),
]
RoleQuery = Annotated[
    Literal["admin", "marketer", "analyst", "viewer"] | None,
    Query(description="Same as the X-Clarion-Role header; wins over it."),
]


@router.post(
    "",
    openapi_extra=UPSERT_BODY,
    responses={
        200: {
            "description": '{"created": n, "updated": n, "unchanged": n, "contacts": '
            '[{"index", "id", "action"}], "rejected": [{"index", "field", "problem"}]}'
        }
    },
)
async def upsert(request: Request, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Create or update up to 1,000 contacts; bad items are rejected one by one, the rest kept.

    Items are matched to stored contacts by external_id, then email; items of the batch that
    name the same contact are merged in order. Consents an item carries are recorded with
    the API key as their source.
    """
    data = parse_body(await request.body())
    if not isinstance(data, dict) or not isinstance(data.get("contacts"), list):
        raise InvalidInput(
            'expected {"contacts": [contact, ...]}', [FieldProblem("contacts", "required: a list")]
        )
    items: list[Any] = data["contacts"]
    if len(items) > contacts.MAX_UPSERT:
        raise TooLarge(f"a batch holds at most {contacts.MAX_UPSERT} contacts, not {len(items)}")
    result = await run_in_threadpool(
        contacts.upsert_contacts,
        instance.store,
        _events(instance),
        key.workspace_id,
        items,
        clock=instance.clock,
        ids=instance.ids,
        source=f"api:{key.id}",
    )
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "contacts": [
            {"index": index, "id": contact_id, "action": action}
            for index, contact_id, action in result.stored
        ],
        "rejected": [problem.as_dict() for problem in result.rejected],
    }


@router.get("/{contact_id}")
def get(
    contact_id: str,
    instance: InstanceDep,
    key: SecretKeyDep,
    role_header: RoleHeader = None,
    role: RoleQuery = None,
) -> dict[str, Any]:
    """A contact with its consents and suppressions, personal fields masked for the role."""
    return contacts.contact_view(
        instance.store,
        key.workspace_id,
        contact_id,
        role=_role(role_header, role),
        now=instance.clock.now(),
    )


class ProofIn(BaseModel):
    """Where the consent can be shown to come from: a form, a file, a call, a person."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["form", "import", "api", "manual", "email_link"] = "api"
    ref: str | None = Field(default=None, max_length=500, examples=["https://acme.example/signup"])


class ConsentIn(BaseModel):
    """A grant or withdrawal of consent for one purpose on one channel."""

    model_config = ConfigDict(extra="forbid")
    purpose: Literal["marketing", "newsletter", "ads_personalisation", "profiling", "analytics"]
    channel: Literal["email", "sms", "push", "phone", "post", "ads", "web"]
    status: Literal["granted", "withdrawn"]
    at: datetime | None = Field(default=None, description="when the person gave it (now)")
    proof: ProofIn = ProofIn()


@router.post("/{contact_id}/consents")
def record_consent(
    contact_id: str, body: ConsentIn, instance: InstanceDep, key: SecretKeyDep
) -> dict[str, Any]:
    """Append a consent grant or withdrawal to the contact's ledger; it takes effect at once.

    Answers with the pair's current state (an entry dated before a newer one changes nothing).
    """
    if body.at is not None and body.at.tzinfo is None:
        raise InvalidInput("at: needs a time zone", [FieldProblem("at", "needs a time zone")])
    state = contacts.record_consent(
        instance.store,
        _events(instance),
        key.workspace_id,
        contact_id,
        pair=f"{body.purpose}:{body.channel}",
        status=body.status,
        clock=instance.clock,
        source=f"api:{key.id}",
        proof_kind=body.proof.kind,
        proof_ref=body.proof.ref,
        at=body.at,
    )
    return {
        "purpose": state.purpose,
        "channel": state.channel,
        "status": state.status,
        "since": state.since.isoformat(),
        "source": state.source,
    }


@router.post("/{contact_id}/erase")
def erase(contact_id: str, instance: InstanceDep, key: SecretKeyDep) -> dict[str, Any]:
    """Erase the contact's personal data on request (irreversible; idempotent).

    Its address stays on the suppression list as a hash, so it is never stored or mailed
    again; events about the contact are kept, under its pseudonymous id.
    """
    contacts.erase_contact(
        instance.store,
        _events(instance),
        key.workspace_id,
        contact_id,
        clock=instance.clock,
        source=f"api:{key.id}",
    )
    return contacts.contact_view(
        instance.store, key.workspace_id, contact_id, role="admin", now=instance.clock.now()
    )
