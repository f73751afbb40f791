"""A loopback SMTP sink that records each message's id: for tests, the benchmark and the demo.

Run it in its own process with ``python -m clarion.delivery.sink --port 2525 --record FILE``:
every accepted message adds a line ``message_id<TAB>recipient`` to FILE *before* the 250 reply,
so the file is the truth about what the server accepted. Recipients whose local part starts
with ``reject`` are refused with 550, with ``later`` with 451 (to test failure handling).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from aiosmtpd.controller import Controller

_ID: Final = re.compile(rb"^X-Clarion-Message: *(\S+)", re.MULTILINE)


@dataclass
class Received:
    """One accepted message: envelope sender, recipients and the raw bytes."""

    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that appends ids to a file and, if asked, keeps the messages."""

    record: Path | None = None
    keep: bool = False
    received: list[Received] = field(default_factory=list)
    _fd: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.record is not None:
            self._fd = os.open(self.record, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 no such mailbox"
        if local.startswith("later"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        data: bytes = envelope.content
        found = _ID.search(data)
        message_id = found.group(1).decode("ascii", "replace") if found else "-"
        if self._fd is not None:
            lines = "".join(f"{message_id}\t{rcpt}\n" for rcpt in envelope.rcpt_tos)
            os.write(self._fd, lines.encode())
        if self.keep:
            with self._lock:
                self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), data))
        return f"250 OK queued as {message_id}"


def start_sink(
    handler: RecordingHandler,
    *,
    port: int = 0,
    tls_context: ssl.SSLContext | None = None,
    **options: Any,
) -> Controller:
    """Start a sink on 127.0.0.1 (in a thread of this process); ``.port`` is where it listens.

    With ``tls_context`` the sink offers STARTTLS and refuses mail before it (530). Other
    ``options`` go to aiosmtpd's server as they are (an ``authenticator``, say).
    """
    if port == 0:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        data_size_limit=10_485_760,
        tls_context=tls_context,
        require_starttls=tls_context is not None,
        **options,
    )
    controller.start()
    return controller


def main() -> None:
    """Serve until SIGTERM; print ``ready PORT`` once listening."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--record", type=Path, required=True, help="file of accepted ids")
    args = parser.parse_args()
    with contextlib.suppress(ImportError):  # uvloop (a dependency off Windows) is faster
        import uvloop  # noqa: PLC0415

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    controller = start_sink(RecordingHandler(record=args.record), port=args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"ready {controller.port}", flush=True)  # noqa: T201 - the parent reads this line
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
