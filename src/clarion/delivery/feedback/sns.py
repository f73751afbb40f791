"""Amazon SES feedback via SNS: verify the SNS signature, confirm subscriptions, read events."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from clarion.core.errors import MalformedBody, Unauthorized
from clarion.delivery.feedback.contracts import Feedback, FeedbackKind
from clarion.settings import FeedbackSettings

# SNS retries a failed HTTP delivery for up to an hour by default (longer if configured): a
# notification is accepted for a day, and its MessageId receipt stops a replay from counting.
MAX_AGE: Final = timedelta(days=1)
_AWS_HOST: Final = re.compile(r"^sns\.[a-z0-9-]{1,30}\.amazonaws\.com(\.cn)?$")
_FIELDS: Final = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_STATUS: Final = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_ID_IN_BRACKETS: Final = re.compile(r"<([A-Za-z0-9_\-:]{1,64})@[^<>\s]{1,255}>")

Fetch = Callable[[str], bytes]
_certificates: dict[str, bytes] = {}


def is_aws_url(url: str, *, suffix: str = "") -> bool:
    """Whether ``url`` is https on an SNS host (certificates and subscribe URLs must be)."""
    parts = urlsplit(url)
    return (
        parts.scheme == "https"
        and _AWS_HOST.match(parts.hostname or "") is not None
        and parts.path.endswith(suffix)
    )


def fetch(url: str) -> bytes:
    """GET an SNS URL (a signing certificate, cached; or a subscribe URL)."""
    if url in _certificates:
        return _certificates[url]
    response = httpx.get(url, timeout=10.0, follow_redirects=False)
    response.raise_for_status()
    if url.endswith(".pem"):
        _certificates[url] = response.content
    return response.content


def _refuse(why: str) -> Unauthorized:
    return Unauthorized(f"webhook signature refused: {why}")


def _verify(message: dict[str, Any], get: Fetch) -> None:
    kind = message.get("Type")
    fields = _FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise _refuse(f"unsupported SNS message type {str(kind)[:40]!r}")
    cert_url = str(message.get("SigningCertURL", ""))
    if not is_aws_url(cert_url, suffix=".pem"):
        raise _refuse("SigningCertURL is not an https sns.*.amazonaws.com certificate")
    canonical = "".join(
        f"{name}\n{message[name]}\n" for name in fields if isinstance(message.get(name), str)
    ).encode()
    # Version 1 signs with SHA-1; only topics set to SignatureVersion 2 (SHA-256) are accepted.
    if str(message.get("SignatureVersion", "")) != "2":
        raise _refuse("SignatureVersion must be 2 (set it on the SNS topic)")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        key = x509.load_pem_x509_certificate(get(cert_url)).public_key()
    except (ValueError, binascii.Error, httpx.HTTPError):
        raise _refuse("signature or signing certificate unreadable") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise _refuse("the signing certificate has no RSA key")
    try:
        key.verify(signature, canonical, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise _refuse("signature does not match") from None


def ses(
    body: bytes,
    headers: Mapping[str, str],
    *,
    settings: FeedbackSettings,
    now: datetime,
    get: Fetch = fetch,
) -> list[Feedback]:
    """An SNS delivery of SES bounce/complaint notifications from an allowed topic."""
    del headers
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"malformed JSON: {exc.msg}") from None
    if not isinstance(message, dict):
        raise MalformedBody("expected an SNS message object")
    _verify(message, get)
    if message.get("TopicArn") not in settings.ses_topic_arns:
        raise _refuse("topic is not in feedback.ses_topic_arns")
    try:
        sent = datetime.fromisoformat(str(message.get("Timestamp", "")).replace("Z", "+00:00"))
    except ValueError:
        raise _refuse("Timestamp is not ISO 8601") from None
    if sent.tzinfo is None or abs(now - sent.astimezone(UTC)) > MAX_AGE:
        raise _refuse("Timestamp is outside the accepted window (a replay?)")
    if message["Type"] == "SubscriptionConfirmation":
        subscribe = str(message.get("SubscribeURL", ""))
        if not is_aws_url(subscribe):
            raise _refuse("SubscribeURL is not on sns.*.amazonaws.com")
        get(subscribe)  # confirming is a GET of the URL SNS gave
        return []
    try:
        notification = orjson.loads(str(message.get("Message", "")))
    except orjson.JSONDecodeError:
        raise MalformedBody("the SNS Message is not an SES notification") from None
    if not isinstance(notification, dict):
        return []
    return _read(notification, str(message.get("MessageId", ""))[:100])


def _header(mail: dict[str, Any], name: str) -> str | None:
    for header in mail.get("headers") or []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == name.lower():
            value = header.get("value")
            return value if isinstance(value, str) else None
    return None


def _message_id(mail: dict[str, Any]) -> str | None:
    clarion = _header(mail, "X-Clarion-Message")
    if clarion and re.fullmatch(r"[A-Za-z0-9_\-:]{1,64}", clarion):
        return clarion
    common = mail.get("commonHeaders") or {}
    candidate = _header(mail, "Message-ID") or (
        common.get("messageId") if isinstance(common, dict) else None
    )
    found = _ID_IN_BRACKETS.search(candidate) if isinstance(candidate, str) else None
    return found.group(1) if found else None


def _read(notification: dict[str, Any], sns_id: str) -> list[Feedback]:
    kind_name = str(notification.get("notificationType") or notification.get("eventType") or "")
    mail = notification.get("mail") if isinstance(notification.get("mail"), dict) else {}
    assert isinstance(mail, dict)
    message_id = _message_id(mail)
    if kind_name == "Complaint":
        complaint = notification.get("complaint") or {}
        recipients = complaint.get("complainedRecipients") or [{}]
        feedback_type = str(complaint.get("complaintFeedbackType") or "abuse")[:40]
        kind: FeedbackKind = "ignored" if feedback_type == "not-spam" else "complaint"
        return [
            Feedback(
                kind,
                f"ses:{sns_id}:{index}",
                message_id=message_id,
                recipient=r.get("emailAddress") if isinstance(r, dict) else None,
                detail=feedback_type,
                reporter="amazon-ses",
                extra={"feedback_type": feedback_type},
            )
            for index, r in enumerate(recipients[:50])
        ]
    if kind_name != "Bounce":
        return []
    bounce = notification.get("bounce") or {}
    permanent = bounce.get("bounceType") == "Permanent"
    found: list[Feedback] = []
    for index, recipient in enumerate((bounce.get("bouncedRecipients") or [{}])[:50]):
        if not isinstance(recipient, dict):
            continue
        status_match = _STATUS.search(str(recipient.get("status", "")))
        status = status_match.group(0) if status_match else None
        if status and status.startswith("4."):
            kind = "soft_bounce"
        elif permanent and status != "5.2.2":
            kind = "hard_bounce"
        else:
            kind = "soft_bounce"
        found.append(
            Feedback(
                kind,
                f"ses:{sns_id}:{index}",
                message_id=message_id,
                recipient=recipient.get("emailAddress"),
                status=status,
                detail=str(recipient.get("diagnosticCode") or bounce.get("bounceSubType") or "")[
                    :500
                ],
                reporter="amazon-ses",
                extra={"bounce_sub_type": str(bounce.get("bounceSubType", ""))[:40]},
            )
        )
    return found
