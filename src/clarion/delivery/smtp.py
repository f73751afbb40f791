"""The SMTP Messenger: a pool of persistent connections with a rate limit and concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from email.utils import parseaddr

import aiosmtplib

from clarion.delivery.messenger import DeliveryResult, Outgoing
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
        self._idle: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        self._slots = asyncio.Semaphore(smtp.max_connections)
        self._open: set[aiosmtplib.SMTP] = set()

    async def _connect(self) -> aiosmtplib.SMTP:
        password = self._smtp.password.get_secret_value() if self._smtp.password else None
        client = aiosmtplib.SMTP(
            hostname=self._smtp.host,
            port=self._smtp.port,
            username=self._smtp.username,
            password=password,
            start_tls=self._smtp.starttls,
            cert_bundle=str(self._smtp.tls_ca_file) if self._smtp.tls_ca_file else None,
            timeout=self._smtp.timeout_seconds,
        )
        await client.connect()
        self._open.add(client)
        return client

    async def _drop(self, client: aiosmtplib.SMTP) -> None:
        self._open.discard(client)
        # A broken connection is being thrown away: whatever closing it raises is moot.
        with contextlib.suppress(Exception):
            client.close()

    async def _send_one(self, message: Outgoing) -> DeliveryResult:
        async with self._slots:
            client = self._idle.get_nowait() if not self._idle.empty() else None
            try:
                if client is None or not client.is_connected:
                    if client is not None:
                        await self._drop(client)
                    client = await self._connect()
                await self._pacer.wait()
                errors, reply = await client.sendmail(self._sender, [message.to], message.payload)
            except aiosmtplib.SMTPRecipientsRefused as error:
                if client is not None:
                    await self._reset(client)
                first = error.recipients[0]
                return DeliveryResult(
                    message.message_id,
                    accepted=False,
                    permanent=500 <= first.code < 600,
                    detail=f"{first.code} {first.message}"[:500],
                )
            except aiosmtplib.SMTPResponseException as error:
                if client is not None:
                    await self._reset(client)
                return DeliveryResult(
                    message.message_id,
                    accepted=False,
                    permanent=500 <= error.code < 600,
                    detail=f"{error.code} {error.message}"[:500],
                )
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                if client is not None:
                    await self._drop(client)
                return DeliveryResult(
                    message.message_id, accepted=False, detail=f"{type(error).__name__}: {error}"
                )
            self._idle.put_nowait(client)
        refused = errors.get(message.to)
        if refused is not None:
            return DeliveryResult(
                message.message_id,
                accepted=False,
                permanent=500 <= refused.code < 600,
                detail=f"{refused.code} {refused.message}"[:500],
            )
        return DeliveryResult(message.message_id, accepted=True, provider_id=None, detail=reply)

    async def _reset(self, client: aiosmtplib.SMTP) -> None:
        # After a refusal the session is still good once RSET clears the transaction.
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            await self._drop(client)
            return
        self._idle.put_nowait(client)

    async def send_batch(self, messages: Sequence[Outgoing]) -> list[DeliveryResult]:
        """Send concurrently over the pool; one result per message, in order."""
        return list(await asyncio.gather(*(self._send_one(m) for m in messages)))

    async def close(self) -> None:
        """QUIT every open connection."""
        while not self._idle.empty():
            self._idle.get_nowait()
        for client in list(self._open):
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit()
            await self._drop(client)
