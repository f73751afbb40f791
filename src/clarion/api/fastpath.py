"""The collector's hot paths as plain ASGI: event batches, the open pixel, the click redirect.

FastAPI's routing, dependency injection and middleware cost several hundred microseconds a
request, more than the work itself for a single event or an open. The routes in
``api/tracking.py`` stay as the documented interface and share ``intake``, ``record_open`` and
``record_click``; this middleware answers those paths first, with the same validation, errors,
statuses, headers and bodies.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clarion.api.errors import STATUS, error_body
from clarion.api.tracking import (
    NO_STORE,
    NOT_FOUND_PAGE,
    PIXEL,
    collector_of,
    intake,
    record_click,
    record_open,
)
from clarion.core.errors import ClarionError, TooLarge

PATHS = {"/v1/events": True, "/v1/events/validate": False}  # path -> stores the events?
MAX_BYTES = 1_048_576
_NO_STORE = [(k.lower().encode(), v.encode()) for k, v in NO_STORE.items()]
_URL_SAFE = ":/%#?=@[]!$&'()*+,;"  # what Starlette's RedirectResponse leaves unquoted


class TrackingFastPath:
    """Answers POST /v1/events and /v1/events/validate; passes everything else on.

    Registered as the app's outermost middleware it serves the TestClient and embedded uses;
    ``clarion serve`` also wraps the whole FastAPI app in one (``outside``), so the hot path
    skips FastAPI's per-request telemetry check and Starlette's middleware stack.
    """

    def __init__(self, app: ASGIApp, *, outside: Any = None, events_only: bool = False) -> None:
        self.app = app
        self.outside = outside  # the FastAPI app when wrapped around it (its state holds ours)
        self.events_only = events_only  # an intake worker: no opens or clicks (no event store)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not self.events_only:
            path: str = scope.get("path", "")
            if path.startswith("/t/o/") and path.endswith(".gif") and "/" not in path[5:-4]:
                await self._pixel(scope, path[5:-4], send)
                return
            if path.startswith("/t/c/") and len(path) > 5 and "/" not in path[5:]:
                await self._click(scope, path[5:], send)
                return
        stores = PATHS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if stores is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        status, payload = await self._handle(scope, receive, stores)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"access-control-allow-origin", b"*"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def _app(self, scope: Scope) -> Any:
        return self.outside if self.outside is not None else scope["app"]

    async def _pixel(self, scope: Scope, token: str, send: Send) -> None:
        await record_open(self._app(scope), token, _user_agent(scope))
        await _respond(send, 200, [(b"content-type", b"image/gif"), *_NO_STORE], PIXEL)

    async def _click(self, scope: Scope, token: str, send: Send) -> None:
        destination = await record_click(self._app(scope), token, _user_agent(scope))
        if destination is None:
            page = NOT_FOUND_PAGE.encode()
            kind = (b"content-type", b"text/html; charset=utf-8")
            await _respond(send, 404, [kind, *_NO_STORE], page)
            return
        location = quote(destination, safe=_URL_SAFE).encode("latin-1")
        await _respond(send, 302, [(b"location", location), *_NO_STORE], b"")

    async def _handle(self, scope: Scope, receive: Receive, stores: bool) -> tuple[int, bytes]:
        headers = {k.lower(): v for k, v in scope["headers"]}
        app = self.outside if self.outside is not None else scope["app"]
        try:
            body = await _read_body(receive, headers.get(b"content-length"))
            rows, rejected = intake(
                body,
                authorization=_text(headers.get(b"authorization")),
                user_agent=_text(headers.get(b"user-agent")),
                instance=app.state.instance,
                keys=app.state.write_keys,
            )
            if not stores:
                return 200, orjson.dumps({"valid": len(rows), "rejected": rejected})
            outcome = await collector_of(app).submit_events(rows)
        except ClarionError as exc:
            return STATUS.get(exc.code, 400), orjson.dumps(
                error_body(exc.code, exc.message, exc.details)
            )
        result: dict[str, Any] = {
            "accepted": outcome.accepted,
            "duplicates": outcome.duplicates,
            "rejected": rejected,
        }
        return 200, orjson.dumps(result)


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": body})


def _user_agent(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name.lower() == b"user-agent":
            return _text(value)
    return None


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


async def _read_body(receive: Receive, declared: bytes | None) -> bytes:
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BYTES):
        raise _too_large()
    chunks, size = [], 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BYTES:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _too_large() -> TooLarge:
    return TooLarge(f"request body is larger than {MAX_BYTES:,} bytes")
