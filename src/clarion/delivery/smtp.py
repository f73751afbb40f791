"""The SMTP Messenger: a pool of persistent connections with a rate limit and concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
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

    async def _lane(
        self, queue: deque[tuple[int, Outgoing]], results: list[DeliveryResult | None]
    ) -> None:
        # One connection slot, held while this batch has messages left for it.
        async with self._slots:
            session: SmtpSession | None = None
            try:
                while queue:
                    index, message = queue.popleft()
                    session = self._idle.pop() if self._idle else None
                    session, results[index] = await self._send_one(session, message)
                    if session is not None:
                        self._idle.append(session)
                    session = None
            finally:
                if session is not None:  # cancelled mid-send: the connection is in doubt
                    self._drop(session)

    async def _send_one(
        self, session: SmtpSession | None, message: Outgoing
    ) -> tuple[SmtpSession | None, DeliveryResult]:
        """Send one message; the session to reuse (None once dropped) and the result."""
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
                session = await self._reset(session)
            return session, DeliveryResult(
                message.message_id,
                accepted=False,
                permanent=refusal.permanent,
                detail=str(refusal.reply)[:500],
            )
        except AddressRejected as error:
            return session, DeliveryResult(
                message.message_id, accepted=False, permanent=True, detail=str(error)[:500]
            )
        except (OSError, TimeoutError) as error:
            if session is not None:
                self._drop(session)
            return None, DeliveryResult(
                message.message_id,
                accepted=False,
                detail=f"{type(error).__name__}: {error}"[:500],
            )
        return session, DeliveryResult(
            message.message_id, accepted=True, provider_id=None, detail=str(reply)[:500]
        )

    async def _reset(self, session: SmtpSession) -> SmtpSession | None:
        # After a refusal the session is still good once RSET clears the transaction.
        try:
            await session.reset()
        except (SmtpRefused, OSError, TimeoutError):
            self._drop(session)
            return None
        return session

    async def send_batch(self, messages: Sequence[Outgoing]) -> list[DeliveryResult]:
        """Send concurrently over the pool; one result per message, in order.

        Up to ``max_connections`` lanes share the batch, each taking the next message when
        its last one is answered: one task per connection, not one per message.
        """
        queue = deque(enumerate(messages))
        results: list[DeliveryResult | None] = [None] * len(messages)
        lanes = min(self._smtp.max_connections, len(messages))
        await asyncio.gather(*(self._lane(queue, results) for _ in range(lanes)))
        return [result for result in results if result is not None]

    async def close(self) -> None:
        """QUIT every open connection."""
        self._idle.clear()
        for session in list(self._open):
            with contextlib.suppress(SmtpRefused, OSError, TimeoutError):
                await session.quit()
            self._drop(session)
