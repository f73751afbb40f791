"""The collector's hot path as plain ASGI: POST /v1/events without the framework's per-request cost.

FastAPI's routing, dependency injection and middleware cost several hundred microseconds a
request, more than the work itself for a single event. The routes in ``api/tracking.py``
stay as the documented interface and share ``intake``; this middleware answers those two
paths first, with the same validation, errors and response bodies.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clarion.api.errors import STATUS, error_body
from clarion.api.tracking import collector_of, intake
from clarion.core.errors import ClarionError, TooLarge

PATHS = {"/v1/events": True, "/v1/events/validate": False}  # path -> stores the events?
MAX_BYTES = 1_048_576


class TrackingFastPath:
    """Answers POST /v1/events and /v1/events/validate; passes everything else on.

    Registered as the app's outermost middleware it serves the TestClient and embedded uses;
    ``clarion serve`` also wraps the whole FastAPI app in one (``outside``), so the hot path
    skips FastAPI's per-request telemetry check and Starlette's middleware stack.
    """

    def __init__(self, app: ASGIApp, *, outside: Any = None) -> None:
        self.app = app
        self.outside = outside  # the FastAPI app when wrapped around it (its state holds ours)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


async def _read_body(receive: Receive, declared: bytes | None) -> bytes:
    too_large = TooLarge(f"request body is larger than {MAX_BYTES:,} bytes")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BYTES):
        raise too_large
    chunks, size = [], 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BYTES:
            raise too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
