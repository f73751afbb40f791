"""The web tracking snippet: ``GET /t/clarion.js``, cached by browsers and revalidated by ETag."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request, Response

router = APIRouter(tags=["tracking"])

MEDIA_TYPE = "text/javascript; charset=utf-8"
# An hour: a fixed snippet reaches every visitor within the hour, and the ETag makes the
# revalidation after that a 304 with no body.
CACHE_CONTROL = "public, max-age=3600"


@cache
def snippet() -> tuple[bytes, str]:
    """The snippet's bytes and their ETag, read from the package once per process."""
    body = resources.files("clarion.tracking.static").joinpath("clarion.js").read_bytes()
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


@router.get("/t/clarion.js", response_class=Response)
def clarion_js(request: Request) -> Response:
    """The JavaScript snippet web pages include to send page views and events."""
    body, etag = snippet()
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)


def _matches(header: str, etag: str) -> bool:
    """Whether If-None-Match names ``etag`` (weak comparison, as RFC 9110 asks) or is ``*``."""
    tags = {part.strip().removeprefix("W/") for part in header.split(",")}
    return etag in tags or "*" in tags
