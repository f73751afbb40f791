"""The market's requests of one step (pixels, redirects, page views, orders), in flight together.

One event loop, run by the market's own thread only while a step's requests are out, keeps
up to ``at_once`` of them in flight over kept-alive HTTP/1.1 connections. Threads would each
need the interpreter's lock to read their answer; with one loop, more requests are out at
once and the collector commits each group of them together. The client is a small one of its
own: the market only needs a status code, and a general client's per-request bookkeeping
(httpx scans its whole pool on every request) cost more than the server's work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

_MAX_HEAD: Final = 64 * 1024
_MAX_BODY: Final = 1024 * 1024


@dataclass(frozen=True)
class Fetch:
    """One request a simulated person's mail client or browser makes."""

    path: str
    user_agent: str
    form: Mapping[str, str] | None = None  # a POST with this form body
    json: Any = None  # a POST with this JSON body (when there is no form); neither: a GET
    bearer: str | None = None  # an Authorization: Bearer key


@dataclass(frozen=True)
class Answer:
    """What the server said: the status code and the body."""

    status_code: int
    body: bytes

    def json(self) -> Any:
        """The body read as JSON."""
        return json.loads(self.body)


class FetchError(OSError):
    """The server's answer was not HTTP/1.1 as this client reads it."""


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Fetcher:
    """``fetch(requests)``: the requests sent, ``at_once`` in flight; answers in their order."""

    def __init__(self, base_url: str, *, at_once: int) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"the market fetches from a plain http://host:port, not {base_url}")
        self._host, self._port = parts.hostname, parts.port
        self._host_header = f"{parts.hostname}:{parts.port}".encode("ascii")
        self._at_once = at_once
        self._idle: list[_Connection] = []
        self._loop = asyncio.new_event_loop()

    def fetch(self, requests: Sequence[Fetch]) -> list[Answer]:
        """Send the requests and wait for every answer."""
        return self._loop.run_until_complete(self._all(requests))

    async def _all(self, requests: Sequence[Fetch]) -> list[Answer]:
        slots = asyncio.Semaphore(self._at_once)

        async def one(request: Fetch) -> Answer:
            async with slots:
                return await self._one(request)

        return list(await asyncio.gather(*(one(request) for request in requests)))

    def _head(self, request: Fetch) -> tuple[bytes, bytes]:
        head = [b"Host: " + self._host_header, b"User-Agent: " + request.user_agent.encode()]
        if request.bearer is not None:
            head.append(b"Authorization: Bearer " + request.bearer.encode("ascii"))
        method, body = b"GET ", b""
        if request.form is not None:
            method, body = b"POST ", urlencode(request.form).encode("ascii")
            head.append(b"Content-Type: application/x-www-form-urlencoded")
        elif request.json is not None:
            method, body = b"POST ", json.dumps(request.json, separators=(",", ":")).encode("utf-8")
            head.append(b"Content-Type: application/json")
        if method == b"POST ":
            head.append(b"Content-Length: " + str(len(body)).encode("ascii"))
        start = method + request.path.encode("ascii") + b" HTTP/1.1\r\n"
        return start + b"\r\n".join(head) + b"\r\n\r\n", body

    async def _one(self, request: Fetch) -> Answer:
        head, body = self._head(request)
        reused = bool(self._idle)
        reader, writer = self._idle.pop() if reused else await self._connect()
        try:
            writer.write(head + body)
            answer, keep = await _read_answer(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            writer.close()
            if not reused:
                raise
            # A kept-alive connection the server had closed: once more on a fresh one.
            reader, writer = await self._connect()
            writer.write(head + body)
            answer, keep = await _read_answer(reader)
        if keep:
            self._idle.append((reader, writer))
        else:
            writer.close()
        return answer

    async def _connect(self) -> _Connection:
        return await asyncio.open_connection(self._host, self._port, limit=_MAX_HEAD)

    def close(self) -> None:
        """Close the connections, then the loop."""
        try:
            for _, writer in self._idle:
                writer.close()
            for _, writer in self._idle:
                with contextlib.suppress(OSError):
                    self._loop.run_until_complete(writer.wait_closed())
            self._idle.clear()
        finally:
            self._loop.close()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    """One response: (status and body, whether the connection may be used again)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
        raise FetchError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip().lower()
    if "chunked" in headers.get("transfer-encoding", ""):
        body = await _read_chunked(reader)
    else:
        length = int(headers.get("content-length", "0"))
        if length > _MAX_BODY:
            raise FetchError(f"an answer of {length} bytes")
        body = await reader.readexactly(length)
    keep = headers.get("connection") != "close" and version == "HTTP/1.1"
    return Answer(int(rest[:3]), body), keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            trailer = await reader.readuntil(b"\r\n")
            while trailer != b"\r\n":  # trailer fields, if any, up to the empty line
                trailer = await reader.readuntil(b"\r\n")
            break
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
        if sum(map(len, parts)) > _MAX_BODY:
            raise FetchError("an answer over 1 MiB")
    return b"".join(parts)
