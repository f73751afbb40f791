"""Tracking routes: event batches, identify, the open pixel, click redirects, conversions."""

from __future__ import annotations

import base64
import logging
from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, StringConstraints, model_validator

from clarion.api.deps import InstanceDep, SecretKeyDep, WriteKeyCache, write_key_from
from clarion.core.errors import FieldProblem, InvalidInput, MalformedBody, TooLarge
from clarion.instance import Instance
from clarion.tracking import service as tracking
from clarion.tracking.collector import Collector
from clarion.tracking.enrichment import Signals, cached_user_agent, enrich_with
from clarion.tracking.intake import MAX_BATCH, Problem, Rejected, email_pseudonym, to_row
from clarion.tracking.plain_batch import EventColumns, decode_plain

log = logging.getLogger(__name__)
router = APIRouter(tags=["tracking"])

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, max-age=0", "Pragma": "no-cache"}
NOT_FOUND_PAGE = (
    "<!doctype html><meta charset=utf-8><title>Link not valid</title>"
    "<p>This link is not valid or has expired.</p>"
)

BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["batch"],
    "properties": {
        "batch": {
            "type": "array",
            "maxItems": MAX_BATCH,
            "items": {
                "type": "object",
                "required": ["type", "ts"],
                "properties": {
                    "event_id": {"type": "string", "maxLength": 128},
                    "type": {"type": "string", "example": "page_view"},
                    "ts": {"type": "string", "format": "date-time"},
                    "contact_id": {"type": "string"},
                    "anonymous_id": {"type": "string"},
                    "email": {"type": "string"},
                    "campaign_id": {"type": "string"},
                    "message_id": {"type": "string"},
                    "channel": {"type": "string"},
                    "variant": {"type": "string"},
                    "url": {"type": "string"},
                    "referrer": {"type": "string"},
                    "utm_source": {"type": "string"},
                    "utm_medium": {"type": "string"},
                    "utm_campaign": {"type": "string"},
                    "utm_term": {"type": "string"},
                    "utm_content": {"type": "string"},
                    "revenue": {"type": "number", "minimum": 0},
                    "currency": {"type": "string"},
                    "properties": {"type": "object"},
                },
            },
        },
        "write_key": {"type": "string", "description": "instead of the header (sendBeacon)"},
    },
}


def collector_of(app: Any) -> Collector:
    """The collector of the app (present when this process owns the event store)."""
    collector: Collector | None = getattr(app.state, "collector", None)
    if collector is None:
        raise RuntimeError("this server does not own the event store")
    return collector


def parse_body(raw: bytes) -> Any:
    """JSON from a request body; MalformedBody with the position of the first error."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            {"line": exc.lineno, "column": exc.colno, "position": exc.pos},
        ) from None


def _batch(data: Any) -> list[Any]:
    if not isinstance(data, dict) or not isinstance(data.get("batch"), list):
        raise InvalidInput(
            'expected {"batch": [event, ...]}', [FieldProblem("batch", "required: a list")]
        )
    batch: list[Any] = data["batch"]
    if len(batch) > MAX_BATCH:
        raise TooLarge(f"a batch holds at most {MAX_BATCH} events, not {len(batch)}")
    return batch


EVENTS_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": BATCH_SCHEMA}}}
}


def intake(
    body: bytes,
    *,
    authorization: str | None,
    user_agent: str | None,
    instance: Instance,
    keys: WriteKeyCache,
) -> tuple[list[dict[str, Any]] | EventColumns, list[dict[str, Any]]]:
    """Parse, authenticate and check a batch: the rows to store and the rejected events.

    A plain batch is checked in one compiled pass and comes back as columns; any doubt and
    each event is checked on its own, naming every problem (decision 0051).
    """

    def new_id() -> str:
        return instance.ids.new("evt")

    plain, now = decode_plain(body), None
    if plain is not None:
        key = write_key_from(authorization, {"write_key": plain.write_key}, instance, keys)
        now, agent = instance.clock.now(), cached_user_agent(user_agent)
        columns = plain.check(
            workspace_id=key.workspace_id, received_at=now, new_id=new_id, agent=agent
        )
        if columns is not None:
            return columns, []
    data = parse_body(body)
    key = write_key_from(authorization, data, instance, keys)
    batch = _batch(data)
    if now is None:
        now, agent = instance.clock.now(), cached_user_agent(user_agent)
    rows, rejected = [], []
    for index, event in enumerate(batch):
        try:
            row = to_row(event, workspace_id=key.workspace_id, received_at=now, new_id=new_id)
        except Rejected as exc:
            rejected.append(Problem(index, exc.field, exc.problem).as_dict())
            continue
        rows.append(enrich_with(row, agent))
    return rows, rejected


async def _intake(
    request: Request, instance: Instance
) -> tuple[list[dict[str, Any]] | EventColumns, list[dict[str, Any]]]:
    return intake(
        await request.body(),
        authorization=request.headers.get("authorization"),
        user_agent=request.headers.get("user-agent"),
        instance=instance,
        keys=request.app.state.write_keys,
    )


@router.post(
    "/v1/events",
    openapi_extra=EVENTS_BODY,
    responses={200: {"description": '{"accepted": n, "duplicates": d, "rejected": [...]}'}},
)
async def post_events(request: Request, instance: InstanceDep) -> dict[str, Any]:
    """Store a batch of events (write key); bad events are rejected one by one, the rest kept.

    The answer comes only after the accepted events are committed to the event store.
    """
    rows, rejected = await _intake(request, instance)
    outcome = await collector_of(request.app).submit_events(rows)
    return {"accepted": outcome.accepted, "duplicates": outcome.duplicates, "rejected": rejected}


@router.post(
    "/v1/events/validate",
    openapi_extra=EVENTS_BODY,
    responses={200: {"description": '{"valid": n, "rejected": [...]}'}},
)
async def validate_events(request: Request, instance: InstanceDep) -> dict[str, Any]:
    """Check a batch exactly as /v1/events does, and store nothing (for integrations)."""
    rows, rejected = await _intake(request, instance)
    return {"valid": len(rows), "rejected": rejected}


class IdentifyIn(BaseModel):
    """Link an anonymous visitor to a contact: their earlier events count for the contact."""

    anonymous_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    contact_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    email: (
        Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
        | None
    ) = None
    write_key: str | None = Field(default=None, description="instead of the header (sendBeacon)")

    @model_validator(mode="after")
    def _one_identity(self) -> IdentifyIn:
        if (self.contact_id is None) == (self.email is None):
            raise ValueError("give exactly one of contact_id or email")
        return self


@router.post("/v1/identify")
async def identify(request: Request, instance: InstanceDep) -> dict[str, Any]:
    """Stitch an anonymous id to a contact (write key)."""
    data = parse_body(await request.body())
    key = write_key_from(
        request.headers.get("authorization"), data, instance, request.app.state.write_keys
    )
    body = IdentifyIn.model_validate(data)
    contact = body.contact_id or email_pseudonym(body.email or "")
    rows = tracking.identity_rows(
        key.workspace_id,
        [(body.anonymous_id, contact)],
        now=instance.clock.now(),
        source="identify",
    )
    events = _events(instance)
    events.append("identities", rows)
    return {"linked": True}


def _events(instance: Instance) -> Any:
    if instance.events is None:
        raise RuntimeError("this server does not own the event store")
    return instance.events


async def record_open(app: Any, token: str, user_agent: str | None) -> None:
    """Record an ``email_open`` for a valid pixel token; never raises (the pixel must load)."""
    instance: Instance = app.state.instance
    try:
        key = instance.settings.secrets.signing_key.get_secret_value().encode()
        message = tracking.resolve_open(instance.store, token, key=key)
        if message is not None:
            row = tracking.open_row(
                message, Signals(user_agent=user_agent), now=instance.clock.now(), ids=instance.ids
            )
            await collector_of(app).submit([row])
    except Exception:  # a broken image would break the email; log and answer the pixel anyway
        log.exception("open pixel: could not record an open")


async def record_click(app: Any, token: str, user_agent: str | None) -> str | None:
    """The destination (with UTM) of a valid click token, its click recorded; else None."""
    instance: Instance = app.state.instance
    key = instance.settings.secrets.signing_key.get_secret_value().encode()
    resolved = tracking.resolve_click(instance.store, token, key=key)
    if resolved is None:
        return None
    message, index, destination = resolved
    row = tracking.click_row(
        message,
        index,
        destination,
        Signals(user_agent=user_agent),
        now=instance.clock.now(),
        ids=instance.ids,
    )
    try:
        await collector_of(app).submit([row])
    except Exception:  # the person still gets where they were going
        log.exception("click redirect: could not record a click")
    return destination


@router.get("/t/o/{token}.gif", response_class=Response)
async def open_pixel(token: str, request: Request) -> Response:
    """The open pixel: always a 1×1 GIF; an ``email_open`` is recorded only for a valid token.

    ``api/fastpath.py`` answers this path first with the same function (decision 0031)."""
    await record_open(request.app, token, request.headers.get("user-agent"))
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/t/c/{token}", response_class=Response)
async def click(token: str, request: Request) -> Response:
    """The click redirect: to the stored destination (plus UTM) for a valid token, else 404.

    ``api/fastpath.py`` answers this path first with the same function (decision 0031)."""
    destination = await record_click(request.app, token, request.headers.get("user-agent"))
    if destination is None:
        return HTMLResponse(NOT_FOUND_PAGE, status_code=404, headers=NO_STORE)
    return RedirectResponse(destination, status_code=302, headers=NO_STORE)


class ConversionIn(BaseModel):
    """A server-to-server conversion postback; the order id makes it count once."""

    order_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    value: Decimal = Field(ge=0, le=Decimal(10) ** 12)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    ts: str | int | None = Field(default=None, description="ISO 8601 or epoch ms; default now")
    click_token: str | None = Field(default=None, max_length=256)
    contact_id: Annotated[str, StringConstraints(max_length=128)] | None = None
    anonymous_id: Annotated[str, StringConstraints(max_length=128)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    campaign_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")] | None = Field(
        default=None, description="the channel that won the order (search, social...)"
    )
    properties: dict[str, Any] | None = None


class ConversionOut(BaseModel):
    accepted: bool
    duplicate: bool
    event_id: str


@router.post("/v1/conversions", response_model=ConversionOut)
async def conversion(
    body: ConversionIn, request: Request, instance: InstanceDep, key: SecretKeyDep
) -> ConversionOut:
    """Record a conversion (secret key), attributed through its click token when given."""
    now = instance.clock.now()
    event_id = f"order:{body.order_id}"
    event: dict[str, Any] = {
        "event_id": event_id,
        "type": "conversion",
        "ts": body.ts,
        "revenue": float(body.value),
        "currency": body.currency,
        "contact_id": body.contact_id,
        "anonymous_id": body.anonymous_id,
        "email": body.email,
        "campaign_id": body.campaign_id,
        "channel": body.channel,
        "properties": {**(body.properties or {}), "order_id": body.order_id},
    }
    if body.click_token is not None:
        signing = instance.settings.secrets.signing_key.get_secret_value().encode()
        resolved = tracking.resolve_click(instance.store, body.click_token, key=signing)
        if resolved is None:
            raise InvalidInput(
                "click_token is not a valid click token",
                [FieldProblem("click_token", "not a valid click token")],
            )
        event.update(
            {k: v for k, v in tracking.message_fields(resolved[0]).items() if v is not None}
        )
    first_seen, stored = tracking.claim_order(
        instance.store, key.workspace_id, body.order_id, now=now
    )
    if stored:
        return ConversionOut(accepted=False, duplicate=True, event_id=event_id)
    if body.ts is None:
        # The conversion happened when the order was first seen: a retried postback then
        # carries the very same event, which the collector recognises.
        event["ts"] = first_seen.isoformat()
    event = {k: v for k, v in event.items() if v is not None}
    try:
        row = to_row(
            event,
            workspace_id=key.workspace_id,
            received_at=now,
            new_id=lambda: instance.ids.new("evt"),
        )
    except Rejected as exc:
        raise InvalidInput(
            f"{exc.field}: {exc.problem}", [FieldProblem(exc.field, exc.problem)]
        ) from None
    outcome = await collector_of(request.app).submit_events([row])
    tracking.mark_order_stored(instance.store, key.workspace_id, body.order_id, now=now)
    return ConversionOut(
        accepted=outcome.accepted == 1, duplicate=outcome.duplicates == 1, event_id=row["event_id"]
    )
