"""Signed delivery webhooks of email providers (Mailgun, SendGrid): verify, then read events."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from clarion.core.errors import MalformedBody, Unauthorized
from clarion.delivery.feedback.contracts import Feedback, FeedbackKind
from clarion.delivery.feedback.parse import message_id_from
from clarion.delivery.feedback.sns import ses
from clarion.settings import FeedbackSettings

MAX_EVENTS: Final = 1000  # per webhook call
_STATUS: Final = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_ID: Final = re.compile(r"^[A-Za-z0-9_\-:.]{1,64}$")


def _refuse(why: str) -> Unauthorized:
    return Unauthorized(f"webhook signature refused: {why}")


def _fresh(timestamp: str, now: datetime, max_age: int) -> datetime:
    """The signed timestamp, refused when absent, odd, or outside the replay window."""
    try:
        at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise _refuse("timestamp is not epoch seconds") from None
    if abs((now - at).total_seconds()) > max_age:
        raise _refuse(f"timestamp is more than {max_age} seconds from now (a replay?)")
    return at


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"malformed JSON: {exc.msg}") from None


def _message_id(*candidates: Any) -> str | None:
    for candidate in candidates:
        if isinstance(candidate, str) and candidate:
            bracketed = candidate if candidate.startswith("<") else f"<{candidate}>"
            found = message_id_from(None, f"Message-ID: {bracketed}")
            if found is not None:
                return found
            if _ID.match(candidate) and "@" not in candidate:
                return candidate
    return None


def _status_kind(status: str | None, permanent: bool) -> FeedbackKind:
    if status and status.startswith("5.") and status != "5.2.2":
        return "hard_bounce"
    if status and status.startswith("4."):
        return "soft_bounce"
    return "hard_bounce" if permanent else "soft_bounce"


def mailgun(
    body: bytes, headers: Mapping[str, str], *, settings: FeedbackSettings, now: datetime
) -> list[Feedback]:
    """Mailgun's webhook: HMAC-SHA256 of timestamp + token under the webhook signing key."""
    del headers
    if settings.mailgun_signing_key is None:
        raise _refuse("no Mailgun signing key is configured (feedback.mailgun_signing_key)")
    data = _json(body)
    signature = data.get("signature") if isinstance(data, dict) else None
    if not isinstance(signature, dict):
        raise _refuse("no signature object")
    timestamp, token, given = (
        str(signature.get(k, "")) for k in ("timestamp", "token", "signature")
    )
    key = settings.mailgun_signing_key.get_secret_value().encode()
    expected = hmac.new(key, (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not token or not hmac.compare_digest(expected.encode(), given.encode()):
        raise _refuse("signature does not match")
    at = _fresh(timestamp, now, settings.webhook_max_age_seconds)
    event = data.get("event-data")
    if not isinstance(event, dict):
        return []
    name = str(event.get("event", ""))
    status_block = event.get("delivery-status") or {}
    headers_block = (event.get("message") or {}).get("headers") or {}
    variables = event.get("user-variables") or {}
    message_id = _message_id(
        variables.get("clarion_message") if isinstance(variables, dict) else None,
        headers_block.get("message-id") if isinstance(headers_block, dict) else None,
    )
    receipt = f"mailgun:{token[:120]}"
    recipient = event.get("recipient") if isinstance(event.get("recipient"), str) else None
    if name == "complained":
        return [
            Feedback(
                "complaint",
                receipt,
                message_id=message_id,
                recipient=recipient,
                detail="abuse",
                reporter="mailgun",
                occurred_at=at,
                extra={"feedback_type": "abuse"},
            )
        ]
    if name != "failed" or not isinstance(status_block, dict):
        return []
    text = f"{status_block.get('enhanced-code', '')} {status_block.get('message', '')}"
    found = _STATUS.search(text) or _STATUS.search(str(status_block.get("description", "")))
    permanent = str(event.get("severity", "")) == "permanent"
    status = found.group(0) if found else None
    return [
        Feedback(
            _status_kind(status, permanent),
            receipt,
            message_id=message_id,
            recipient=recipient,
            status=status,
            detail=str(status_block.get("message") or status_block.get("description") or "")[:500],
            reporter="mailgun",
            occurred_at=at,
            extra={"severity": str(event.get("severity", ""))[:20]},
        )
    ]


SENDGRID_SIGNATURE: Final = "x-twilio-email-event-webhook-signature"
SENDGRID_TIMESTAMP: Final = "x-twilio-email-event-webhook-timestamp"


def sendgrid(
    body: bytes, headers: Mapping[str, str], *, settings: FeedbackSettings, now: datetime
) -> list[Feedback]:
    """SendGrid's signed event webhook: ECDSA P-256 / SHA-256 over timestamp + raw body."""
    if not settings.sendgrid_public_key:
        raise _refuse("no SendGrid verification key is configured (feedback.sendgrid_public_key)")
    signature, timestamp = headers.get(SENDGRID_SIGNATURE), headers.get(SENDGRID_TIMESTAMP)
    if not signature or not timestamp:
        raise _refuse("signature or timestamp header missing")
    try:
        key = load_der_public_key(base64.b64decode(settings.sendgrid_public_key))
        der = base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error):
        raise _refuse("signature or configured key is not base64") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise _refuse("the configured SendGrid key is not an ECDSA key")
    try:
        key.verify(der, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise _refuse("signature does not match") from None
    _fresh(timestamp, now, settings.webhook_max_age_seconds)
    data = _json(body)
    if not isinstance(data, list):
        raise MalformedBody("expected a JSON array of events")
    found: list[Feedback] = []
    for event in data[:MAX_EVENTS]:
        if isinstance(event, dict):
            item = _sendgrid_event(event)
            if item is not None:
                found.append(item)
    return found


_SENDGRID_KINDS: Final[dict[str, FeedbackKind]] = {"spamreport": "complaint"}


def _sendgrid_event(event: dict[str, Any]) -> Feedback | None:
    name = str(event.get("event", ""))
    event_id = str(event.get("sg_event_id", ""))[:120]
    if not event_id or name not in ("bounce", "deferred", "dropped", "spamreport"):
        return None
    status = _STATUS.search(str(event.get("status", "")))
    code = status.group(0) if status else None
    if name == "spamreport":
        kind: FeedbackKind = "complaint"
    elif name == "deferred":
        kind = "soft_bounce"
    elif name == "dropped":
        reason = str(event.get("reason", "")).lower()
        if "bounced address" not in reason and "invalid" not in reason:
            return None  # dropped for unsubscribes or spam content: not a bounce
        kind = "hard_bounce"
    else:
        kind = "soft_bounce" if event.get("type") == "blocked" else _status_kind(code, True)
    ts = event.get("timestamp")
    occurred = datetime.fromtimestamp(ts, tz=UTC) if isinstance(ts, int) and ts > 0 else None
    return Feedback(
        kind,
        f"sendgrid:{event_id}",
        message_id=_message_id(event.get("clarion_message"), event.get("smtp-id")),
        recipient=event.get("email") if isinstance(event.get("email"), str) else None,
        status=code,
        detail=str(event.get("reason") or event.get("response") or "")[:500],
        reporter="sendgrid",
        occurred_at=occurred,
        extra={"provider_event": name},
    )


Verifier = Callable[..., list[Feedback]]
PROVIDERS: Final[dict[str, Verifier]] = {"mailgun": mailgun, "sendgrid": sendgrid, "ses": ses}
