"""Clarion's real HTTP server in a process of its own, on the market's simulated clock."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import threading
import time
from types import TracebackType
from typing import Any, Final, Self

import httpx
import uvicorn

from clarion.api.app import create_app
from clarion.api.fastpath import TrackingFastPath
from clarion.core.ids import SeededIds
from clarion.instance import Instance, open_instance
from clarion.settings import Settings
from clarion.simulate.loopback import KEEP_ALIVE_SECONDS
from clarion.simulate.shared_clock import ClockReader, SharedSimulatedClock

START_TIMEOUT: Final = 60.0  # seconds for the child to import, open the stores and listen
STOP_TIMEOUT: Final = 60.0  # seconds for the collector and the sender to finish on SIGTERM
IDS_STREAM: Final = 1_000_003  # the server's identifiers come from a stream of their own
PARENT_CHECK: Final = 0.5  # seconds between the child's checks that its parent still lives


def _follow_parent(parent: int) -> None:
    """Stop the server (as SIGTERM does: flushed, closed) once the process that started it is
    gone, so that a market killed outright leaves no server holding the event store."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK)
    os.kill(os.getpid(), signal.SIGTERM)


def _serve(settings: Settings, cell: Any, port: int, seed: int) -> None:
    """The child: open the installation on the shared clock, own the event store, serve."""
    threading.Thread(target=_follow_parent, args=(os.getppid(),), daemon=True).start()
    instance = open_instance(settings, clock=ClockReader(cell), ids=SeededIds(seed + IDS_STREAM))
    instance.open_events()
    try:
        api = create_app(instance)
        # As `clarion serve` runs it: the collector's hot paths answer first (decision 0031).
        config = uvicorn.Config(
            TrackingFastPath(api, outside=api),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            # The market's connections idle while it mails or ends a day; a server that
            # closed them meanwhile could race a request just being sent on one.
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        uvicorn.Server(config).run()  # SIGTERM: finish requests, flush, close
    finally:
        instance.close()
        instance.store.dispose()


class ServerProcess:
    """``with ServerProcess(instance, clock, seed) as server:`` — the API on a free loopback
    port, served by a spawned process that owns the event store while it runs.

    The server and the market then use a core each instead of sharing one interpreter's lock.
    The parent gives the event store up on entry and opens it again on exit, so nothing it
    does in between may touch the event store: it goes through the HTTP API instead.
    """

    def __init__(self, instance: Instance, clock: SharedSimulatedClock, seed: int) -> None:
        if instance.clock is not clock:
            raise ValueError("the server must read the instance's own (shared) clock")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.instance = instance
        context = multiprocessing.get_context("spawn")
        self._process = context.Process(
            target=_serve,
            args=(instance.settings, clock.cell, self.port, seed),
            name="clarion-server",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        """Where the server answers."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self.instance.close()  # DuckDB admits one process: the server's, from now on
        self._process.start()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._answers():
                return self
            if not self._process.is_alive() or time.monotonic() > deadline:
                try:
                    self._stop()
                finally:
                    self.instance.open_events()
                raise RuntimeError(f"the server process did not start on port {self.port}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        """Whether the server is listening yet (a refused connection means not yet)."""
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()
        self.instance.open_events()

    def _stop(self) -> None:
        if self._process.pid is not None and self._process.is_alive():
            self._process.terminate()  # SIGTERM: uvicorn's graceful shutdown
            self._process.join(timeout=STOP_TIMEOUT)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        if self._process.exitcode not in (0, -signal.SIGTERM, None):
            raise RuntimeError(f"the server process ended with exit code {self._process.exitcode}")
