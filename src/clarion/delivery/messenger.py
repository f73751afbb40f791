"""The one shape every sending channel has: send a batch, report what became of each message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """One message ready for the wire, named by its outbox id (the provider's idempotency key)."""

    message_id: str
    to: str  # an email address, a phone number in E.164 or a device token
    payload: bytes  # the channel's wire form: a MIME message, an SMS body, a push JSON document


@dataclass(frozen=True)
class DeliveryResult:
    """What the provider said about one message."""

    message_id: str
    accepted: bool
    provider_id: str | None = None  # the provider's own id for the message, when it gives one
    permanent: bool = False  # a refusal that retrying will not fix (5xx, invalid number)
    detail: str = ""  # the provider's words, for the outbox row and the operator


class Messenger(Protocol):
    """A channel: email over SMTP, or SMS / push / chat through a provider's webhook API."""

    channel: str

    async def send_batch(self, messages: Sequence[Outgoing]) -> list[DeliveryResult]:
        """Send ``messages``; one result per message, in the same order."""
        ...

    async def close(self) -> None:
        """Release connections; the messenger is not used afterwards."""
        ...
