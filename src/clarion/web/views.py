"""Routes of the dashboard under /dashboard: sign in and out, the campaign list, a campaign."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from clarion.audiences.pii import ROLES
from clarion.auth import service as auth
from clarion.auth.contracts import KeyKind
from clarion.campaigns import service as campaigns
from clarion.core.errors import ClarionError, NotFound, Unauthorized
from clarion.instance import Instance
from clarion.reports.service import campaign_report_html
from clarion.web import overview
from clarion.web.session import (
    COOKIE,
    LIFETIME,
    LOGIN_COOKIE,
    Session,
    decode,
    encode,
    new_session,
    same_token,
    session_key,
)

HERE: Final = Path(__file__).parent
PREFIX: Final = "/dashboard"
MAX_FORM_BYTES: Final = 4096  # a key, a role and a token
# No script runs on these pages; styles and images come only from this server.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
router = APIRouter(prefix=PREFIX, include_in_schema=False)


class NeedsLogin(Exception):
    """No valid session: the page answers with a redirect to the login form."""


def _instance(request: Request) -> Instance:
    instance: Instance = request.app.state.instance
    return instance


def _key(instance: Instance) -> bytes:
    return session_key(instance.settings.secrets.signing_key.get_secret_value())


def _live(instance: Instance, session: Session) -> bool:
    """The key the session was opened with still exists and is not revoked."""
    return any(
        k.id == session.key_id and k.revoked_at is None and k.kind == KeyKind.SECRET
        for k in auth.list_keys(instance.store, session.workspace_id)
    )


def current_session(request: Request) -> Session:
    """The request's valid session; NeedsLogin otherwise (revoking the key ends it at once)."""
    instance = _instance(request)
    session = decode(request.cookies.get(COOKIE), _key(instance), instance.clock.now())
    if session is None or not _live(instance, session):
        raise NeedsLogin
    return session


SessionDep = Annotated[Session, Depends(current_session)]


def page(name: str, status: int = 200, data_ms: str | None = None, **context: Any) -> HTMLResponse:
    """Render a template with the security headers every dashboard page carries.

    ``Server-Timing`` says where the time went (reading the slices, rendering), so a slow page
    can be diagnosed from the browser's network panel.
    """
    started = time.perf_counter()
    body = templates.get_template(name).render(prefix=PREFIX, **context)
    timing = f"render;dur={_ms(started)}" + (f", data;dur={data_ms}" if data_ms else "")
    headers = {**SECURITY_HEADERS, "Server-Timing": timing}
    return HTMLResponse(body, status_code=status, headers=headers)


def _ms(started: float) -> str:
    return f"{(time.perf_counter() - started) * 1000:.1f}"


def _cookie(response: Response, name: str, value: str, max_age: int, path: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="strict",
        secure=False,  # self-hosted on plain HTTP too; behind TLS the proxy adds Secure
    )


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), max_num_fields=8)
    return {name: values[0] for name, values in parsed.items()}


@router.get("/login")
def login_form() -> HTMLResponse:
    """The sign-in form; its CSRF token is also set in a short-lived cookie (double submit)."""
    token = secrets.token_urlsafe(24)
    response = page("login.html", token=token, roles=ROLES, error=None)
    _cookie(response, LOGIN_COOKIE, token, 900, f"{PREFIX}/login")
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    """Sign in with a secret API key once; the session cookie carries the rest."""
    instance = _instance(request)
    form = await _form(request)
    expected = request.cookies.get(LOGIN_COOKIE) or ""
    role = form.get("role", "viewer")

    def again(message: str, status: int) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = page("login.html", status, token=token, roles=ROLES, error=message)
        _cookie(response, LOGIN_COOKIE, token, 900, f"{PREFIX}/login")
        return response

    if not expected or not same_token(form.get("csrf"), expected):
        return again("The form expired or did not come from this page; please sign in again.", 403)
    if role not in ROLES:
        return again(f"Choose one of the roles: {', '.join(ROLES)}.", 422)
    try:
        key = auth.authenticate(
            instance.store, form.get("key", "").strip(), KeyKind.SECRET, pepper=instance.pepper
        )
    except Unauthorized as error:
        return again(f"Sign-in refused: {error.message}.", 401)
    session = new_session(key.id, key.workspace_id, role, instance.clock.now())
    response = RedirectResponse(f"{PREFIX}/", status_code=303)
    _cookie(response, COOKIE, encode(session, _key(instance)), int(LIFETIME.total_seconds()), "/")
    response.delete_cookie(LOGIN_COOKIE, path=f"{PREFIX}/login")
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    """Sign out (a form with the session's CSRF token, never a link)."""
    form = await _form(request)
    if not same_token(form.get("csrf"), session.csrf):
        return page("error.html", 403, session=session, message="This sign-out form expired.")
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
def campaign_list(request: Request, session: SessionDep) -> HTMLResponse:
    """Every campaign of the workspace, newest start first."""
    instance = _instance(request)
    found = campaigns.list_campaigns(instance.store, session.workspace_id)
    return page("campaigns.html", session=session, campaigns=found)


@router.get("/campaigns/{ref}")
def campaign(request: Request, ref: str, session: SessionDep) -> HTMLResponse:
    """One campaign: is it on track?"""
    instance = _instance(request)
    if instance.events is None:
        message = "This server does not own the event store, so it cannot show metrics."
        return page("error.html", 503, session=session, message=message)
    started = time.perf_counter()
    try:
        shown = overview.campaign_page(
            instance.store, instance.events, session.workspace_id, ref[:200], instance.clock.now()
        )
    except NotFound:
        return page("error.html", 404, session=session, message="No such campaign here.")
    except ClarionError as error:
        return page("error.html", 422, session=session, message=error.message)
    return page("campaign.html", data_ms=_ms(started), session=session, page=shown)


# The report is one self-contained page: its styles are inline, and nothing else may load.
REPORT_HEADERS: Final = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


@router.get("/campaigns/{ref}/report")
def campaign_report(request: Request, ref: str, session: SessionDep) -> Response:
    """The post-campaign report of one campaign, as of now, built from stored facts."""
    instance = _instance(request)
    if instance.events is None:
        message = "This server does not own the event store, so it cannot build the report."
        return page("error.html", 503, session=session, message=message)
    try:
        html = campaign_report_html(
            instance.store,
            instance.events,
            session.workspace_id,
            ref[:200],
            now=instance.clock.now(),
        )
    except NotFound:
        return page("error.html", 404, session=session, message="No such campaign here.")
    except ClarionError as error:
        return page("error.html", 422, session=session, message=error.message)
    return HTMLResponse(html, headers=REPORT_HEADERS)


@router.get("/static/dashboard.css")
def stylesheet() -> FileResponse:
    """The one stylesheet."""
    return FileResponse(
        HERE / "static" / "dashboard.css",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


async def needs_login(request: Request, _exc: Exception) -> Response:
    """Pages answer a missing or stale session with the login form, not a JSON error."""
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    if request.cookies.get(COOKIE):
        response.delete_cookie(COOKIE, path="/")
    return response
