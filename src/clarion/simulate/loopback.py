"""Clarion's real HTTP app served on 127.0.0.1 in a thread, for the simulator to call."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Final, Self

import uvicorn

from clarion.api.app import create_app
from clarion.api.fastpath import TrackingFastPath
from clarion.instance import Instance

START_TIMEOUT: Final = 30.0  # seconds
KEEP_ALIVE_SECONDS: Final = 600  # the market keeps its connections for a whole run


class LoopbackServer:
    """``with LoopbackServer(instance) as base_url:`` — the API on a free loopback port."""

    def __init__(self, instance: Instance) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        api = create_app(instance)
        # As `clarion serve` runs it: the collector's hot paths answer first (decision 0031).
        config = uvicorn.Config(
            TrackingFastPath(api, outside=api),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            # The market's connections idle while it mails or ends a day; a server that
            # closed them meanwhile could race a request just being sent on one.
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def base_url(self) -> str:
        """Where the server answers."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the loopback server did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True  # the collector commits what it acknowledged first
        self._thread.join(timeout=START_TIMEOUT)
