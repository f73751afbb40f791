"""The SMTP client session: the wire format, AUTH, uvloop, PIPELINING, and addresses it refuses."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import uvloop
from aiosmtpd.smtp import AuthResult, LoginPassword

from clarion.delivery.messenger import DeliveryResult, Outgoing
from clarion.delivery.sink import RecordingHandler, start_sink
from clarion.delivery.smtp import SmtpPool
from clarion.delivery.smtp_session import SmtpSession, dot_stuffed

from delivery_world import smtp_for

MESSAGE = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: Hi\r\n\r\nHello\r\n"


def test_the_data_section_doubles_leading_dots_and_ends_with_a_lone_dot() -> None:
    assert (
        dot_stuffed(b".hidden\r\nline\r\n.\r\n..two")
        == b"..hidden\r\nline\r\n..\r\n...two\r\n.\r\n"
    )


def test_bare_line_feeds_and_carriage_returns_become_crlf() -> None:
    assert dot_stuffed(b"a\nb\rc\r\n.d") == b"a\r\nb\r\nc\r\n..d\r\n.\r\n"


def _send_all(
    port: int, messages: list[Outgoing], *, loop: str = "asyncio", **settings: Any
) -> list[DeliveryResult]:
    async def go() -> list[DeliveryResult]:
        pool = SmtpPool(smtp_for(port, **settings))
        try:
            return await pool.send_batch(messages)
        finally:
            await pool.close()

    return uvloop.run(go()) if loop == "uvloop" else asyncio.run(go())


def test_the_pool_sends_on_uvloop_as_clarion_serve_runs_it(
    sink: tuple[RecordingHandler, int],
) -> None:
    handler, port = sink
    messages = [Outgoing(f"msg_{i}", f"r{i}@example.org", MESSAGE) for i in range(20)]
    results = _send_all(port, messages, loop="uvloop")
    assert all(r.accepted for r in results), results
    assert sorted(r.recipients[0] for r in handler.received) == sorted(m.to for m in messages)


def test_two_batches_at_once_share_the_pool_and_each_keeps_its_order(
    sink: tuple[RecordingHandler, int],
) -> None:
    handler, port = sink

    def batch(name: str) -> list[Outgoing]:
        # every third recipient is refused (5xx) or deferred (4xx), in the middle of the batch
        kinds = ("r", "reject", "later")
        return [
            Outgoing(f"{name}_{i}", f"{kinds[i % 3]}{name}{i}@example.org", MESSAGE)
            for i in range(12)
        ]

    async def go() -> tuple[list[DeliveryResult], list[DeliveryResult], int]:
        pool = SmtpPool(smtp_for(port, max_connections=2))
        try:
            first, second = await asyncio.gather(
                pool.send_batch(batch("a")), pool.send_batch(batch("b"))
            )
            return first, second, len(pool._open)
        finally:
            await pool.close()

    first, second, connections = asyncio.run(go())
    assert connections <= 2
    for name, results in (("a", first), ("b", second)):
        assert [r.message_id for r in results] == [f"{name}_{i}" for i in range(12)]
        assert [r.accepted for r in results] == [i % 3 == 0 for i in range(12)]
        assert [r.permanent for r in results if not r.accepted] == [True, False] * 4
    assert sorted(r.recipients[0] for r in handler.received) == sorted(
        f"r{name}{i}@example.org" for name in "ab" for i in range(0, 12, 3)
    )


def test_a_message_with_dot_lines_arrives_as_it_was_written(
    sink: tuple[RecordingHandler, int],
) -> None:
    handler, port = sink
    body = MESSAGE + b".\r\n..and a line that starts with dots\r\n"
    (result,) = _send_all(port, [Outgoing("msg_dots", "b@example.org", body)])
    assert result.accepted, result.detail
    assert handler.received[0].data.replace(b"\r\n", b"\n") == body.replace(b"\r\n", b"\n")


def test_an_address_that_would_inject_a_command_is_refused_and_nothing_is_sent(
    sink: tuple[RecordingHandler, int],
) -> None:
    handler, port = sink
    hostile = Outgoing("msg_evil", "a@example.org>\r\nRCPT TO:<victim@example.net", MESSAGE)
    fine = Outgoing("msg_fine", "b@example.org", MESSAGE)
    evil, ok = _send_all(port, [hostile, fine], max_connections=1)
    assert not evil.accepted and evil.permanent
    assert ok.accepted, ok.detail
    assert [r.recipients for r in handler.received] == [["b@example.org"]]


class _Accounts:
    """aiosmtpd authenticator: one user, one password."""

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"clarion",
            b"s3cret",
        )
        return AuthResult(success=good, handled=False)


NO_TLS_WARNING = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture
def auth_sink() -> Iterator[tuple[RecordingHandler, int]]:
    handler = RecordingHandler(keep=True)
    controller = start_sink(
        handler,
        authenticator=_Accounts(),
        auth_required=True,
        auth_require_tls=False,  # loopback only, for the test (aiosmtpd warns about it)
    )
    yield handler, controller.port
    controller.stop()


@NO_TLS_WARNING
def test_the_pool_logs_in_when_a_user_is_configured(
    auth_sink: tuple[RecordingHandler, int],
) -> None:
    handler, port = auth_sink
    (result,) = _send_all(
        port,
        [Outgoing("msg_auth", "b@example.org", MESSAGE)],
        username="clarion",
        password="s3cret",
    )
    assert result.accepted, result.detail
    assert len(handler.received) == 1


@NO_TLS_WARNING
def test_a_wrong_password_is_a_permanent_refusal_and_nothing_is_sent(
    auth_sink: tuple[RecordingHandler, int],
) -> None:
    handler, port = auth_sink
    (result,) = _send_all(
        port, [Outgoing("msg_auth", "b@example.org", MESSAGE)], username="clarion", password="nope"
    )
    assert not result.accepted and result.permanent
    assert result.detail is not None and result.detail.startswith("535")
    assert handler.received == []


class _PipeliningServer(asyncio.Protocol):
    """A minimal SMTP server that offers PIPELINING and answers commands as they arrive."""

    def __init__(self, log: list[bytes]) -> None:
        self.log = log
        self.buffer = b""
        self.in_data = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.transport.write(b"220 pipe ready\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            self.log.append(line)
            if self.in_data:
                if line == b".":
                    self.in_data = False
                    self.transport.write(b"250 2.0.0 queued\r\n")
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.transport.write(b"250-pipe\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"RCPT" and b"nobody@" in line:
                self.transport.write(b"550 5.1.1 no such user\r\n")
            elif verb == b"DATA":
                self.in_data = True
                self.transport.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.transport.write(b"221 bye\r\n")
                self.transport.close()
            else:
                self.transport.write(b"250 OK\r\n")


def test_with_pipelining_a_refused_recipient_sends_no_data() -> None:
    async def go() -> tuple[list[bytes], str, str]:
        log: list[bytes] = []
        server = await asyncio.get_running_loop().create_server(
            lambda: _PipeliningServer(log), "127.0.0.1", 0
        )
        port = server.sockets[0].getsockname()[1]
        session = await SmtpSession.open("127.0.0.1", port, timeout=5)
        accepted = await session.send("a@example.com", "b@example.org", MESSAGE)
        pool = SmtpPool(smtp_for(port))
        (refused,) = await pool.send_batch([Outgoing("m", "nobody@example.org", MESSAGE)])
        await pool.close()
        await session.quit()
        server.close()
        return log, str(accepted), str(refused.detail)

    log, accepted, refused = asyncio.run(go())
    assert log[1:4] == [b"MAIL FROM:<a@example.com>", b"RCPT TO:<b@example.org>", b"DATA"]
    assert accepted == "250 2.0.0 queued"
    assert refused.startswith("550")
    assert log.count(b".") == 1  # the refused message's data was never sent


class _ChattyServer(_PipeliningServer):
    """Answers EHLO, then says one more thing nobody asked for (in the same callback, so the
    client, on the same loop, reads both before it sends anything)."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if data.upper().startswith(b"EHLO"):
            self.transport.write(b"250 and another thing\r\n")


def test_a_reply_nobody_asked_for_fails_the_message_softly_and_replaces_the_connection() -> None:
    async def go() -> tuple[DeliveryResult, int]:
        log: list[bytes] = []
        server = await asyncio.get_running_loop().create_server(
            lambda: _ChattyServer(log), "127.0.0.1", 0
        )
        port = server.sockets[0].getsockname()[1]
        pool = SmtpPool(smtp_for(port, max_connections=1))
        (result,) = await pool.send_batch([Outgoing("m", "b@example.org", MESSAGE)])
        still_open = len(pool._open)
        await pool.close()
        server.close()
        return result, still_open

    result, still_open = asyncio.run(go())
    assert not result.accepted and not result.permanent  # tried again later, on a new connection
    assert "unexpected reply" in str(result.detail)
    assert still_open == 0
