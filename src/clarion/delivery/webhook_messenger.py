"""A Messenger for SMS, push and chat providers: a signed JSON batch posted to their webhook."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx
import orjson

from clarion.core.clock import Clock, SystemClock
from clarion.delivery.messenger import DeliveryResult, Outgoing

SIGNATURE_HEADER: Final = "X-Clarion-Signature"  # "v1=<hex HMAC-SHA256 of '{ts}.{body}'>"
TIMESTAMP_HEADER: Final = "X-Clarion-Timestamp"  # unix seconds, inside the signature
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"  # the same for every retry of one batch
RETRY_STATUSES: Final = frozenset({408, 425, 429, 500, 502, 503, 504})
# The caller's configuration is wrong, not the messages: they stay retryable once fixed.
CONFIG_STATUSES: Final = frozenset({401, 403, 404, 405})
MAX_ANSWER_BYTES: Final = 4 * 1024 * 1024

Sleep = Callable[[float], Awaitable[None]]


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Clarion-Signature`` value a provider (or its adapter) checks."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def batch_body(channel: str, messages: Sequence[Outgoing]) -> bytes:
    """The JSON document posted: one entry per message, payload as text or base64."""
    entries: list[dict[str, Any]] = []
    for message in messages:
        entry: dict[str, Any] = {"id": message.message_id, "to": message.to}
        try:
            entry["payload"] = message.payload.decode("utf-8")
            entry["encoding"] = "utf-8"
        except UnicodeDecodeError:
            entry["payload"] = base64.b64encode(message.payload).decode("ascii")
            entry["encoding"] = "base64"
        entries.append(entry)
    return orjson.dumps({"channel": channel, "messages": entries})


def idempotency_key(messages: Sequence[Outgoing]) -> str:
    """Names the batch by its messages, so a provider can drop a retry it already handled."""
    digest = hashlib.sha256("\n".join(m.message_id for m in messages).encode())
    return digest.hexdigest()[:40]


@dataclass(frozen=True)
class _Attempt:
    """What one POST came to: an answer to read, or a reason to retry or to give up."""

    results: list[DeliveryResult] | None = None
    retry_after: float | None = None  # seconds, when the failure is worth another try
    detail: str = ""
    permanent: bool = False


class WebhookMessenger:
    """Posts a batch, signed with HMAC-SHA256 over timestamp and body, and maps the answer.

    The provider answers ``{"results": [{"id", "status": "accepted"|"rejected"|"failed",
    "provider_id"?, "permanent"?, "detail"?}]}``. Timeouts, connection errors, 408/425/429
    and 5xx are retried with exponential backoff (Retry-After honoured, capped), under one
    Idempotency-Key. A message is reported accepted only when the answer says so for it.
    """

    def __init__(
        self,
        channel: str,
        url: str,
        secret: bytes,
        *,
        max_attempts: int = 4,
        timeout: float = 10.0,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not secret:
            raise ValueError("a webhook channel needs a signing secret")
        self.channel = channel
        self.url = url
        self._secret = secret
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def send_batch(self, messages: Sequence[Outgoing]) -> list[DeliveryResult]:
        """Send ``messages``; one result per message, in the same order."""
        if not messages:
            return []
        body = batch_body(self.channel, messages)
        key = idempotency_key(messages)
        last = _Attempt(detail="not sent")
        for attempt in range(self.max_attempts):
            last = await self._post(body, key, messages)
            if last.results is not None:
                return last.results
            if last.retry_after is None or attempt == self.max_attempts - 1:
                break
            await self._sleep(last.retry_after or self._delay(attempt))
        return [
            DeliveryResult(
                m.message_id, accepted=False, permanent=last.permanent, detail=last.detail
            )
            for m in messages
        ]

    def _delay(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2**attempt))

    async def _post(self, body: bytes, key: str, messages: Sequence[Outgoing]) -> _Attempt:
        timestamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
            IDEMPOTENCY_HEADER: key,
        }
        try:
            response = await self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return _Attempt(retry_after=0.0, detail="timed out waiting for the provider")
        except httpx.TransportError as error:
            return _Attempt(retry_after=0.0, detail=f"could not reach the provider: {error}"[:300])
        status = response.status_code
        if status in RETRY_STATUSES:
            return _Attempt(
                retry_after=self._retry_after(response.headers.get("retry-after")),
                detail=f"provider answered {status}",
            )
        if status in CONFIG_STATUSES:
            return _Attempt(
                detail=f"provider answered {status}: check the channel's URL and secret"
            )
        if not 200 <= status < 300:
            return _Attempt(
                detail=f"provider refused the batch with {status}", permanent=400 <= status < 500
            )
        return _Attempt(results=self._results(response.content, messages))

    def _retry_after(self, header: str | None) -> float:
        try:
            seconds = float(header) if header is not None else 0.0
        except ValueError:
            seconds = 0.0
        return min(self.max_backoff, max(0.0, seconds))

    def _results(self, content: bytes, messages: Sequence[Outgoing]) -> list[DeliveryResult]:
        answers: dict[str, dict[str, Any]] = {}
        try:
            data = (
                orjson.loads(content[:MAX_ANSWER_BYTES])
                if len(content) <= MAX_ANSWER_BYTES
                else None
            )
        except orjson.JSONDecodeError:
            data = None
        listed = data.get("results") if isinstance(data, dict) else None
        if not isinstance(listed, list):
            detail = "the provider's answer was not readable: delivery unknown"
            return [DeliveryResult(m.message_id, accepted=False, detail=detail) for m in messages]
        for entry in listed:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                answers.setdefault(entry["id"], entry)
        return [self._result(m, answers.get(m.message_id)) for m in messages]

    @staticmethod
    def _result(message: Outgoing, entry: dict[str, Any] | None) -> DeliveryResult:
        if entry is None:
            return DeliveryResult(
                message.message_id, accepted=False, detail="the provider's answer did not name it"
            )
        status = entry.get("status")
        provider_id = entry.get("provider_id")
        detail = entry.get("detail")
        permanent = entry.get("permanent")
        return DeliveryResult(
            message.message_id,
            accepted=status == "accepted",
            provider_id=provider_id[:128] if isinstance(provider_id, str) else None,
            permanent=status == "rejected"
            if not isinstance(permanent, bool)
            else (permanent and status != "accepted"),
            detail=detail[:300] if isinstance(detail, str) else str(status)[:40],
        )

    async def close(self) -> None:
        """Release connections; the messenger is not used afterwards."""
        await self._client.aclose()
