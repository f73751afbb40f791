"""Intake workers: processes that answer POST /v1/events on their own port for this collector.

One Python process checks, converts and acknowledges only so many requests a second: its event
loop and the collector's writer share one interpreter lock (decision 0052). ``clarion serve
--intake-workers N`` starts N worker processes on an intake port. Each parses, authenticates,
checks and converts requests to Arrow in its own interpreter, and relays them to this process
(the event store's one writer) over a private socket pair. This process commits them with its
own requests and answers; a worker acknowledges a request only after that answer.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from clarion.settings import Settings
from clarion.tracking.collector import Collector, RemoteWaiter
from clarion.tracking.commit import Outcome, Submission
from clarion.tracking.relay import (
    LENGTH,
    MAX_FRAME,
    decode_request,
    encode_answers,
    request_heads,
)

log = logging.getLogger(__name__)
RESTART_PAUSE = 1.0  # seconds between a worker's death and its replacement


@dataclass
class IntakePlan:
    """Where intake workers listen: one socket per worker, bound by ``clarion serve`` first."""

    listeners: list[socket.socket]

    @property
    def workers(self) -> int:
        return len(self.listeners)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.listeners[0].getsockname()[:2]
        return str(host), int(port)

    def close(self) -> None:
        for listener in self.listeners:
            listener.close()


def listen(host: str, port: int, workers: int) -> IntakePlan:
    """Sockets for ``workers`` workers on one port; OSError (e.g. address in use) at once.

    Each worker has a socket of its own on the port (``SO_REUSEPORT``), so the kernel spreads
    new connections over the workers; with one shared socket, whichever worker woke first
    took a whole burst of connections. A replaced worker takes over its slot's socket, so
    connections waiting there are served, not dropped.
    """
    if port and _answers(host, port):  # SO_REUSEPORT would quietly share it with another server
        raise OSError(errno.EADDRINUSE, "address already in use")
    first = socket.create_server((host, port), backlog=4096, reuse_port=True)
    listeners = [first]
    try:
        bound = first.getsockname()[:2]  # the port the first one got, if ``port`` was 0
        for _ in range(workers - 1):
            listeners.append(socket.create_server(bound, backlog=4096, reuse_port=True))
    except OSError:
        for listener in listeners:
            listener.close()
        raise
    return IntakePlan(listeners)


def _answers(host: str, port: int) -> bool:
    probe = "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host  # noqa: S104
    try:
        with socket.create_connection((probe, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class _Link:
    """This process's end of one worker's socket pair; answers go back over it."""

    sock: socket.socket
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, outcomes: list[tuple[int, Outcome | BaseException]]) -> None:
        data = encode_answers(outcomes)
        # A broken link means the worker is gone: its requests were never acknowledged.
        with contextlib.suppress(OSError), self.lock:
            self.sock.sendall(data)


@dataclass
class _Frame:
    """One request frame from a worker, opened on the collector's writer thread."""

    link: _Link
    data: bytearray
    heads: list[tuple[int, int, int]]

    @property
    def rows(self) -> int:
        return sum(rows for _, rows, _ in self.heads)

    def open(self) -> list[tuple[Submission, RemoteWaiter]]:
        try:
            parts = decode_request(self.data)
        except ValueError:
            log.exception("an intake worker sent a malformed frame; closing its link")
            self.fail(RuntimeError("malformed frame"))
            self.link.sock.shutdown(socket.SHUT_RDWR)  # it is replaced, its requests refused
            return []
        return [
            (Submission(p.rows, p.lookback), RemoteWaiter(self.link, p.request_id)) for p in parts
        ]

    def fail(self, error: BaseException) -> None:
        self.link.answer([(request_id, error) for request_id, _, _ in self.heads])


class IntakeWorkers:
    """Starts the workers, restarts any that die, and feeds their requests to the collector."""

    def __init__(self, collector: Collector, settings: Settings, plan: IntakePlan) -> None:
        self.collector = collector
        self.settings = settings
        self.plan = plan
        self._processes: list[subprocess.Popen[bytes] | None] = [None] * plan.workers
        self._links: list[_Link | None] = [None] * plan.workers
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.restarts = 0

    def start(self) -> None:
        for slot in range(self.plan.workers):
            self._spawn(slot)

    def pids(self) -> list[int]:
        """The running workers' process ids."""
        with self._lock:
            return [p.pid for p in self._processes if p is not None and p.poll() is None]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the workers (they finish the requests they hold first), then the relay."""
        self._stopping.set()
        with self._lock:
            processes = [p for p in self._processes if p is not None]
        for process in processes:
            if process.poll() is None:
                process.terminate()  # uvicorn finishes its requests, which need our answers
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with self._lock:
            links = [link for link in self._links if link is not None]
        for link in links:
            link.sock.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.plan.close()

    def _spawn(self, slot: int) -> None:
        ours, theirs = socket.socketpair()
        environment = dict(os.environ)
        environment["CLARION_DATA_DIR"] = str(self.settings.data_dir.resolve())
        environment["CLARION_APP_STORE_URL"] = self.settings.resolved_app_store_url
        listener = self.plan.listeners[slot].fileno()
        process = subprocess.Popen(  # noqa: S603 - this interpreter, this package, fixed args
            [
                sys.executable,
                "-m",
                "clarion.api.intake_worker",
                str(listener),
                str(theirs.fileno()),
            ],
            pass_fds=(listener, theirs.fileno()),
            env=environment,
        )
        theirs.close()
        link = _Link(ours)
        with self._lock:
            self._processes[slot] = process
            self._links[slot] = link
        thread = threading.Thread(
            target=self._relay, args=(slot, process, link), name=f"clarion-intake-{slot}"
        )
        thread.daemon = True
        self._threads.append(thread)
        thread.start()

    def _relay(self, slot: int, process: subprocess.Popen[bytes], link: _Link) -> None:
        """Read the worker's frames into the collector until it goes; then replace it."""
        # A broken link ends the reading: the worker is gone, or we closed it on stopping.
        with contextlib.suppress(OSError):
            while (frame := _read_frame(link.sock)) is not None:
                try:
                    heads = request_heads(frame)
                except ValueError:
                    log.exception("intake worker %s sent a malformed frame; closing it", slot)
                    break
                self.collector.submit_remote(_Frame(link, frame, heads))
        link.sock.close()
        if self._stopping.is_set():
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        log.warning("intake worker %s (pid %s) ended; starting another", slot, process.pid)
        if not self._stopping.wait(RESTART_PAUSE):
            self.restarts += 1
            self._spawn(slot)


def _read_frame(sock: socket.socket) -> bytearray | None:
    """The next request frame (after its length), or None when the worker closed the link."""
    head = _read_exactly(sock, LENGTH.size)
    if head is None:
        return None
    (length,) = LENGTH.unpack(head)
    if length > MAX_FRAME:
        raise OSError(f"intake frame of {length} bytes")
    return _read_exactly(sock, length)


def _read_exactly(sock: socket.socket, size: int) -> bytearray | None:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        count = sock.recv_into(view[got:])
        if count == 0:
            return None
        got += count
    return buffer
