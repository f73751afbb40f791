"""The SMTP Messenger: a pool of persistent connections with a rate limit and concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Sequence
from email.utils import parseaddr

from clarion.delivery.messenger import DeliveryResult, Outgoing
from clarion.delivery.smtp_session import AddressRejected, SmtpRefused, SmtpSession
from clarion.settings import SmtpSettings


class Pacer:
    """At most ``rate`` starts per second, spaced evenly, shared by every connection."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


class SmtpPool:
    """Email over SMTP: up to ``max_connections`` kept open and reused for every message.

    A refusal with a 5xx code is permanent; a 4xx code, a timeout or a dropped connection is
    not (the connection is replaced, and the caller decides whether to try again).
    """

    channel = "email"

    def __init__(self, smtp: SmtpSettings) -> None:
        self._smtp = smtp
        self._sender = parseaddr(smtp.return_path or smtp.from_address)[1]
        self._pacer = Pacer(smtp.rate_per_second)
        self._idle: list[SmtpSession] = []
        self._slots = asyncio.Semaphore(smtp.max_connections)
        self._open: set[SmtpSession] = set()
        self._tls: ssl.SSLContext | None = None

    async def _connect(self) -> SmtpSession:
        smtp = self._smtp
        if smtp.starttls and self._tls is None:
            ca_file = str(smtp.tls_ca_file) if smtp.tls_ca_file else None
            self._tls = ssl.create_default_context(cafile=ca_file)
        session = await SmtpSession.open(
            smtp.host,
            smtp.port,
            timeout=smtp.timeout_seconds,
            starttls=smtp.starttls,
            tls_context=self._tls,
            username=smtp.username,
            password=smtp.password.get_secret_value() if smtp.password else None,
        )
        self._open.add(session)
        return session

    def _drop(self, session: SmtpSession) -> None:
        self._open.discard(session)
        session.close()

    async def _send_one(self, message: Outgoing) -> DeliveryResult:
        async with self._slots:
            session = self._idle.pop() if self._idle else None
            try:
                if session is not None and not session.is_open:
                    self._drop(session)
                    session = None
                if session is None:
                    session = await self._connect()
                await self._pacer.wait()
                reply = await session.send(self._sender, message.to, message.payload)
            except SmtpRefused as refusal:
                if session is not None:
                    await self._reset(session)
                return DeliveryResult(
                    message.message_id,
                    accepted=False,
                    permanent=refusal.permanent,
                    detail=str(refusal.reply)[:500],
                )
            except AddressRejected as error:
                if session is not None:
                    self._idle.append(session)
                return DeliveryResult(
                    message.message_id, accepted=False, permanent=True, detail=str(error)[:500]
                )
            except (OSError, TimeoutError) as error:
                if session is not None:
                    self._drop(session)
                return DeliveryResult(
                    message.message_id,
                    accepted=False,
                    detail=f"{type(error).__name__}: {error}"[:500],
                )
            self._idle.append(session)
        return DeliveryResult(
            message.message_id, accepted=True, provider_id=None, detail=str(reply)[:500]
        )

    async def _reset(self, session: SmtpSession) -> None:
        # After a refusal the session is still good once RSET clears the transaction.
        try:
            await session.reset()
        except (SmtpRefused, OSError, TimeoutError):
            self._drop(session)
            return
        self._idle.append(session)

    async def send_batch(self, messages: Sequence[Outgoing]) -> list[DeliveryResult]:
        """Send concurrently over the pool; one result per message, in order."""
        return list(await asyncio.gather(*(self._send_one(m) for m in messages)))

    async def close(self) -> None:
        """QUIT every open connection."""
        self._idle.clear()
        for session in list(self._open):
            with contextlib.suppress(SmtpRefused, OSError, TimeoutError):
                await session.quit()
            self._drop(session)
