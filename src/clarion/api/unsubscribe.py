"""Unsubscribe routes: one-click ``POST /u/{token}`` (RFC 8058) and the preference page."""

from __future__ import annotations

import logging
from email.parser import BytesParser
from email.policy import HTTP
from typing import Final
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from clarion.api.deps import InstanceDep
from clarion.api.tracking import collector_of
from clarion.audiences.contracts import PURPOSES
from clarion.delivery import unsubscribe as unsub
from clarion.delivery.unsubscribe_page import NOT_FOUND_PAGE, done_page, preference_page
from clarion.instance import Instance
from clarion.stores.events import EventStore
from clarion.tracking.contracts import TrackedMessage

log = logging.getLogger(__name__)
router = APIRouter(tags=["unsubscribe"])

MAX_FORM_BYTES: Final = 8192  # a one-click body is 26 bytes; the preference form a few hundred
HEADERS: Final = {
    "Cache-Control": "no-store, max-age=0",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
}


def _not_found() -> HTMLResponse:
    return HTMLResponse(NOT_FOUND_PAGE, status_code=404, headers=HEADERS)


def _message(instance: Instance, token: str) -> TrackedMessage | None:
    key = instance.settings.secrets.signing_key.get_secret_value().encode()
    return unsub.resolve(instance.store, token, key=key)


def form_fields(content_type: str, body: bytes) -> dict[str, list[str]]:
    """The fields of a urlencoded or multipart/form-data body (RFC 8058 allows both)."""
    if content_type.lower().startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
        parsed = BytesParser(policy=HTTP).parsebytes(head + body)
        fields: dict[str, list[str]] = {}
        for part in parsed.iter_parts() if parsed.is_multipart() else ():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields.setdefault(name, []).append(payload.decode("utf-8", "replace").strip())
        return fields
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


@router.get("/u/{token}", response_class=HTMLResponse)
async def preference_page_route(
    token: str, request: Request, instance: InstanceDep
) -> HTMLResponse:
    """The preference page of an unsubscribe link; a plain 404 for a forged or unknown token."""
    message = await run_in_threadpool(_message, instance, token)
    if message is None:
        return _not_found()
    prefs = await run_in_threadpool(
        unsub.preferences, instance.store, message, now=instance.clock.now()
    )
    return HTMLResponse(preference_page(prefs, request.url.path), headers=HEADERS)


@router.post("/u/{token}", response_class=HTMLResponse)
async def unsubscribe_route(token: str, request: Request, instance: InstanceDep) -> HTMLResponse:
    """One-click unsubscribe (body ``List-Unsubscribe=One-Click``) or the preference form.

    No cookie or CSRF token is needed: the signed token is the authority. 200 whenever the
    token is genuine, however often it is repeated; 404 for anything else, changing nothing.
    """
    message = await run_in_threadpool(_message, instance, token)
    if message is None:
        return _not_found()
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return HTMLResponse("<!doctype html><title>Too large</title>", status_code=413)
    fields = form_fields(request.headers.get("content-type", ""), body)
    purposes: list[str] | None
    if "One-Click" in fields.get("List-Unsubscribe", []):
        purposes = None
    elif fields.get("action") == ["save"]:
        purposes = [p for p in fields.get("optout", []) if p in PURPOSES]
    else:
        return HTMLResponse(
            "<!doctype html><title>Bad request</title>"
            "<p>Expected List-Unsubscribe=One-Click in the body.</p>",
            status_code=400,
            headers=HEADERS,
        )
    events = _events(instance)
    outcome = await run_in_threadpool(
        lambda: unsub.unsubscribe(
            instance.store,
            events,
            message,
            token=token,
            clock=instance.clock,
            purposes=purposes,
        )
    )
    if outcome.changed:
        row = unsub.unsubscribe_row(message, outcome, now=instance.clock.now(), ids=instance.ids)
        try:
            await collector_of(request.app).submit([row])
        except Exception:  # the opt-out is in force already; only its event is missing
            log.exception("unsubscribe: could not record the unsubscribe event")
    return HTMLResponse(done_page(outcome), headers=HEADERS)


def _events(instance: Instance) -> EventStore:
    if instance.events is None:
        raise RuntimeError("this server does not own the event store")
    return instance.events
