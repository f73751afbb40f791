"""One SMTP client connection: greeting, EHLO, STARTTLS, AUTH, then one mail transaction at a time.

Written for the sender's hot path (decision 0044): a transaction is a handful of writes and
awaited replies under one deadline, with no address re-parsing and no per-command timers.
Replies are parsed by an ``asyncio.Protocol`` as they arrive; PIPELINING (RFC 2920) is used when
the server offers it.
"""

from __future__ import annotations

import asyncio
import base64
import re
import socket
import ssl
from collections import deque
from dataclasses import dataclass, field
from typing import Final, cast

_NEWLINES: Final = re.compile(rb"\r\n|\r|\n")
_MAX_REPLY: Final = 64 * 1024  # a server that talks more than this before a reply ends is broken


@dataclass(frozen=True)
class Reply:
    """A server reply: the three-digit code and its text (lines joined by newlines)."""

    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


class SmtpRefused(Exception):
    """The server answered a command with a 4xx (try later) or 5xx (permanent) code."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(str(reply))
        self.reply = reply

    @property
    def permanent(self) -> bool:
        return 500 <= self.reply.code < 600


class SmtpProtocolError(OSError):
    """The server broke the protocol (a garbled or endless reply) or closed the connection."""


class AddressRejected(ValueError):
    """An envelope address this client will not put on the wire (line breaks, angle brackets)."""


class _Transaction:
    """One mail transaction driven from the reply callback: each reply answers one step.

    A step is the codes that let the transaction go on and the bytes to write when they come.
    The first refusal is kept while the replies already asked for (PIPELINING) still arrive;
    then the transaction ends with it.
    """

    __slots__ = ("done", "outstanding", "refusal", "steps")

    def __init__(
        self,
        steps: deque[tuple[tuple[int, ...], bytes | None]],
        outstanding: int,
        done: asyncio.Future[Reply],
    ) -> None:
        self.steps = steps
        self.outstanding = outstanding
        self.refusal: Reply | None = None
        self.done = done


@dataclass
class _ReplyReader(asyncio.Protocol):
    """Collects complete (possibly multi-line) replies from the byte stream.

    While a transaction runs, each reply goes straight to it and the next command is written
    from this callback, without waking a coroutine per command.
    """

    transport: asyncio.Transport | None = None
    _buffer: bytearray = field(default_factory=bytearray)
    _lines: list[str] = field(default_factory=list)
    _replies: deque[Reply] = field(default_factory=deque)
    _waiter: asyncio.Future[None] | None = None
    _lost: Exception | None = None
    _transaction: _Transaction | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport, only alike.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        while (end := buffer.find(b"\r\n", start)) >= 0:
            self._line(bytes(buffer[start:end]))
            start = end + 2
        del buffer[:start]
        if len(buffer) > _MAX_REPLY or sum(map(len, self._lines)) > _MAX_REPLY:
            self._fail(SmtpProtocolError("the server's reply is too long"))
        self._wake()

    def _line(self, line: bytes) -> None:
        code = line[:3]
        if len(code) != 3 or not code.isdigit() or line[3:4] not in (b"", b" ", b"-"):
            self._fail(SmtpProtocolError(f"not an SMTP reply: {line[:80]!r}"))
            return
        self._lines.append(line[4:].decode("utf-8", "replace"))
        if line[3:4] != b"-":
            reply = Reply(int(code), "\n".join(self._lines))
            self._lines = []
            if self._transaction is not None:
                self._advance(self._transaction, reply)
            else:
                self._replies.append(reply)

    def begin(self, first: bytes, transaction: _Transaction) -> None:
        """Write a transaction's first command(s); its replies then drive the rest."""
        if self._replies:  # a reply nobody asked for: client and server are out of step
            self._fail(SmtpProtocolError(f"an unexpected reply: {self._replies[0]}"))
        if self._lost is not None:
            raise self._lost
        if self.transport is None or self.transport.is_closing():
            raise SmtpProtocolError("the connection is closed")
        self._transaction = transaction
        self.transport.write(first)

    def _advance(self, transaction: _Transaction, reply: Reply) -> None:
        transaction.outstanding -= 1
        codes, following = transaction.steps.popleft()
        if transaction.refusal is None and reply.code not in codes:
            transaction.refusal = reply
        if transaction.refusal is not None:
            if reply.code == 354 and self.transport is not None:
                self.transport.close()  # it waits for data we must not send
            if transaction.outstanding <= 0 or not transaction.steps:
                self._end(SmtpRefused(transaction.refusal))
            return
        if following is not None and self.transport is not None:
            self.transport.write(following)
            transaction.outstanding += 1
        if not transaction.steps:
            self._end(reply)

    def _end(self, outcome: Reply | Exception) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is None or transaction.done.done():
            return
        if isinstance(outcome, Reply):
            transaction.done.set_result(outcome)
        else:
            transaction.done.set_exception(outcome)

    def _fail(self, error: Exception) -> None:
        if self._lost is None:
            self._lost = error
        if self.transport is not None:
            self.transport.abort()
        self._end(self._lost)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._lost is None:
            self._lost = SmtpProtocolError(
                f"the server closed the connection: {exc}" if exc else "the server closed it"
            )
        self._end(self._lost)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done() and (self._replies or self._lost):
            waiter.set_result(None)

    async def reply(self) -> Reply:
        """The next complete reply, waiting for it if need be."""
        while not self._replies:
            if self._lost is not None:
                raise self._lost
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._replies.popleft()


def dot_stuffed(payload: bytes) -> bytes:
    """The DATA section for ``payload``: CRLF line ends, leading dots doubled, the final dot."""
    crlf = payload.count(b"\r\n")
    if payload.count(b"\n") != crlf or payload.count(b"\r") != crlf:
        payload = _NEWLINES.sub(b"\r\n", payload)
    stuffed = payload.replace(b"\r\n.", b"\r\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


def _path(address: str) -> bytes:
    if any(c in address for c in "\r\n<> \t\0"):
        raise AddressRejected(f"not a usable envelope address: {address[:80]!r}")
    return b"<" + address.encode("utf-8") + b">"


def _ehlo_name(transport: asyncio.Transport) -> str:
    name = socket.getfqdn()
    if "." in name:
        return name
    host = transport.get_extra_info("sockname")[0]  # an address literal, as RFC 5321 allows
    return f"[IPv6:{host}]" if ":" in host else f"[{host}]"


class SmtpSession:
    """An open, greeted (and, if asked, encrypted and authenticated) SMTP connection."""

    def __init__(self, reader: _ReplyReader, timeout: float) -> None:
        self._reader = reader
        self._timeout = timeout
        self.extensions: dict[str, str] = {}

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        timeout: float,
        starttls: bool = False,
        tls_context: ssl.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> SmtpSession:
        """Connect, read the greeting, EHLO; then STARTTLS and AUTH when configured."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            _, reader = await loop.create_connection(_ReplyReader, host, port)
        session = cls(reader, timeout)
        try:
            async with asyncio.timeout(timeout):
                await session._expect(220)
                await session._hello()
                if starttls:
                    await session._starttls(host, tls_context or ssl.create_default_context())
                if username is not None:
                    await session._login(username, password or "")
        except BaseException:
            session.close()
            raise
        return session

    @property
    def is_open(self) -> bool:
        transport = self._reader.transport
        return self._reader._lost is None and transport is not None and not transport.is_closing()

    def _write(self, data: bytes) -> None:
        transport = self._reader.transport
        if transport is None or transport.is_closing() or self._reader._lost is not None:
            raise self._reader._lost or SmtpProtocolError("the connection is closed")
        transport.write(data)

    async def _expect(self, *codes: int) -> Reply:
        reply = await self._reader.reply()
        if reply.code not in codes:
            raise SmtpRefused(reply)
        return reply

    async def _command(self, line: bytes, *codes: int) -> Reply:
        self._write(line + b"\r\n")
        return await self._expect(*codes)

    async def _hello(self) -> None:
        assert self._reader.transport is not None
        name = _ehlo_name(self._reader.transport).encode("ascii", "replace")
        reply = await self._command(b"EHLO " + name, 250)
        extensions = {}
        for line in reply.text.split("\n")[1:]:
            keyword, _, value = line.strip().partition(" ")
            extensions[keyword.upper()] = value
        self.extensions = extensions

    async def _starttls(self, host: str, context: ssl.SSLContext) -> None:
        if "STARTTLS" not in self.extensions:
            raise SmtpProtocolError("the server does not offer STARTTLS")
        await self._command(b"STARTTLS", 220)
        transport = self._reader.transport
        assert transport is not None
        loop = asyncio.get_running_loop()
        upgraded = await loop.start_tls(transport, self._reader, context, server_hostname=host)
        self._reader.transport = cast(asyncio.Transport, upgraded)
        await self._hello()

    async def _login(self, username: str, password: str) -> None:
        offered = self.extensions.get("AUTH", "").upper().split()
        user, secret = username.encode(), password.encode()
        if "PLAIN" in offered:
            token = base64.b64encode(b"\0" + user + b"\0" + secret)
            await self._command(b"AUTH PLAIN " + token, 235)
        elif "LOGIN" in offered:
            await self._command(b"AUTH LOGIN", 334)
            await self._command(base64.b64encode(user), 334)
            await self._command(base64.b64encode(secret), 235)
        else:
            raise SmtpProtocolError(f"no shared AUTH mechanism (server offers {offered or 'none'})")

    async def send(self, sender: str, recipient: str, payload: bytes) -> Reply:
        """One transaction: MAIL, RCPT, DATA; the final reply, or SmtpRefused at the first no."""
        utf8 = not (sender.isascii() and recipient.isascii())
        if utf8 and "SMTPUTF8" not in self.extensions:
            raise AddressRejected("a non-ASCII address, and the server does not offer SMTPUTF8")
        mail = b"MAIL FROM:" + _path(sender) + (b" SMTPUTF8" if utf8 else b"") + b"\r\n"
        rcpt = b"RCPT TO:" + _path(recipient) + b"\r\n"
        data = dot_stuffed(payload)
        done: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        if "PIPELINING" in self.extensions:
            first, outstanding = mail + rcpt + b"DATA\r\n", 3
            steps = deque((((250,), None), ((250, 251), None), ((354,), data), ((250,), None)))
        else:
            first, outstanding = mail, 1
            steps = deque(
                (((250,), rcpt), ((250, 251), b"DATA\r\n"), ((354,), data), ((250,), None))
            )
        self._reader.begin(first, _Transaction(steps, outstanding, done))
        try:
            async with asyncio.timeout(self._timeout):
                return await done
        finally:
            if self._reader._transaction is not None and self._reader._transaction.done is done:
                self._reader._transaction = None

    async def reset(self) -> None:
        """RSET: abandon the transaction; the connection stays usable."""
        async with asyncio.timeout(self._timeout):
            await self._command(b"RSET", 250)

    async def quit(self) -> None:
        """QUIT politely, then close."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._command(b"QUIT", 221)
        finally:
            self.close()

    def close(self) -> None:
        """Close the connection at once."""
        transport = self._reader.transport
        if transport is not None and not transport.is_closing():
            transport.close()
