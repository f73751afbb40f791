"""An intake worker process: POST /v1/events on the intake port, relayed to the store's owner.

Started by ``clarion serve --intake-workers N`` (``tracking/intake_workers.py``) as
``python -m clarion.api.intake_worker LISTENER_FD LINK_FD``: it serves the inherited listening
socket with the collector's fast path (the same checks, errors and answers as the main port)
and hands what it accepts to the owner over the inherited socket pair. It stops when the owner
goes: nothing can be acknowledged without it.
"""

from __future__ import annotations

import socket
import sys
from types import SimpleNamespace

import orjson
from starlette.types import Receive, Scope, Send

from clarion.api.deps import WriteKeyCache
from clarion.api.errors import error_body
from clarion.api.fastpath import TrackingFastPath
from clarion.instance import Instance
from clarion.tracking.relay_client import RelayClient

_PREFLIGHT = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"POST"),
    (b"access-control-allow-headers", b"Authorization, Content-Type"),
    (b"access-control-max-age", b"86400"),
    (b"content-length", b"0"),
]
_ELSEWHERE = orjson.dumps(
    error_body(
        "not_found",
        "this port is the collector's intake: it serves POST /v1/events and "
        "/v1/events/validate; everything else is on the main port",
    )
)


class IntakeApp:
    """The worker's ASGI app: the collector's fast path over a relay, and nothing else."""

    def __init__(self, instance: Instance, link: socket.socket) -> None:
        self.link = link
        self.relay = RelayClient(instance.clock)
        # What the fast path reads from an app's state, as the main server's app holds it.
        self.state = SimpleNamespace(
            instance=instance, write_keys=WriteKeyCache(), collector=self.relay
        )
        self.fast = TrackingFastPath(self._elsewhere, outside=self, events_only=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": _PREFLIGHT})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.fast(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.relay.connect(self.link)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.relay.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _elsewhere(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_ELSEWHERE)).encode()),
        ]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": _ELSEWHERE})


def main(arguments: list[str]) -> None:
    """Serve the inherited listener until told to stop or the owner goes away."""
    import uvicorn  # noqa: PLC0415 - loaded in the worker only

    from clarion.core.runtime import (  # noqa: PLC0415
        load_lazy_imports,
        quiet_garbage_collector,
    )
    from clarion.instance import open_instance  # noqa: PLC0415
    from clarion.settings import load_settings  # noqa: PLC0415

    listener = socket.socket(fileno=int(arguments[0]))
    link = socket.socket(fileno=int(arguments[1]))
    instance = open_instance(load_settings())
    app = IntakeApp(instance, link)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)

    def owner_gone() -> None:
        server.should_exit = True

    app.relay.on_lost = owner_gone
    load_lazy_imports()
    quiet_garbage_collector()
    try:
        server.run(sockets=[listener])
    finally:
        instance.close()


if __name__ == "__main__":
    main(sys.argv[1:])
