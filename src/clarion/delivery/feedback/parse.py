"""Read one returned email: a DSN (RFC 3464), an ARF report (RFC 5965) or an auto-reply."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import message_from_bytes, message_from_string
from email.message import Message
from email.policy import compat32
from email.utils import parsedate_to_datetime
from typing import Final

from clarion.delivery.feedback.contracts import Feedback, FeedbackKind

MAX_REPORT_BYTES: Final = 10 * 1024 * 1024  # a bounce quoting a huge attachment is cut here
_STATUS: Final = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE: Final = re.compile(r"\b([45])\d\d\b")
_MESSAGE_ID: Final = re.compile(r"<([^<>@\s]{1,64})@[^<>\s]{1,255}>")
_CLARION_ID: Final = re.compile(r"^[A-Za-z0-9_\-:]{1,64}$")
_BODY_CLARION_HEADER: Final = re.compile(r"^X-Clarion-Message:\s*(\S+)\s*$", re.I | re.M)
_BODY_MESSAGE_ID: Final = re.compile(r"^Message-ID:\s*(<[^>]+>)", re.I | re.M)
# Subjects of auto-replies in the languages senders meet most; a DSN is never one.
_AUTO_SUBJECT: Final = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|"
    r"abwesenheitsnotiz|r[ée]ponse automatique|absence|vacation|on vacation|away from)",
    re.I,
)
_DAEMON: Final = re.compile(r"(mailer-daemon|postmaster|mail delivery (subsystem|system))", re.I)
# Persistent transient failures that servers still send with a 5: a full mailbox is soft.
SOFT_EVEN_IF_PERMANENT: Final = frozenset({"5.2.2"})
COMPLAINT_TYPES: Final = frozenset({"abuse", "fraud", "virus", "other"})


def receipt_of(raw: bytes) -> str:
    """The key that makes one report count once: the SHA-256 of its bytes."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _header(msg: Message, name: str) -> str:
    value = msg.get(name)
    return "" if value is None else " ".join(str(value).split())


def _when(msg: Message, *names: str) -> datetime | None:
    for name in names:
        text = _header(msg, name)
        if not text:
            continue
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    return None


def message_id_from(headers: Message | None, text: str = "") -> str | None:
    """Clarion's message id from returned headers (or, failing that, from quoted text)."""
    candidates: list[str] = []
    if headers is not None:
        candidates += [_header(headers, "X-Clarion-Message")]
        found = _MESSAGE_ID.search(_header(headers, "Message-ID"))
        candidates += [found.group(1) if found else ""]
    if text:
        clarion = _BODY_CLARION_HEADER.search(text)
        candidates += [clarion.group(1) if clarion else ""]
        quoted = _BODY_MESSAGE_ID.search(text)
        found = _MESSAGE_ID.search(quoted.group(1)) if quoted else None
        candidates += [found.group(1) if found else ""]
    for candidate in candidates:
        if candidate and _CLARION_ID.match(candidate):
            return candidate
    return None


def _returned_headers(msg: Message) -> Message | None:
    """The original message's headers, from a message/rfc822 or text/rfc822-headers part."""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/rfc822-headers"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if kind == "text/rfc822-headers":
            text = _text(part)
            if text:
                return message_from_string(text, policy=compat32)
    return None


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, "replace")
        except LookupError:
            return payload.decode("utf-8", "replace")
    return payload if isinstance(payload, str) else ""


def _all_text(msg: Message) -> str:
    return "\n".join(
        _text(part)
        for part in msg.walk()
        if part.get_content_maintype() == "text" and not part.is_multipart()
    )


def _status_kind(status: str, action: str) -> FeedbackKind:
    if action == "delayed" or status.startswith("4."):
        return "soft_bounce"
    if status in SOFT_EVEN_IF_PERMANENT:
        return "soft_bounce"
    if status.startswith("5."):
        return "hard_bounce"
    return "ignored"


def _address(value: str) -> str | None:
    _, _, address = value.partition(";")
    address = (address or value).strip().strip("<>")
    return address or None


def _dsn(msg: Message, receipt: str, reporter: str) -> Feedback:
    blocks = _status_blocks(msg)
    if blocks is None:
        return Feedback("unrecognised", receipt, detail="report without a delivery-status part")
    per_message, recipients = blocks
    returned = _returned_headers(msg)
    message_id = message_id_from(returned, _all_text(msg))
    reporter = _header(per_message, "Reporting-MTA").partition(";")[2].strip() or reporter
    occurred = _when(per_message, "Arrival-Date") or _when(msg, "Date")
    worst: Feedback | None = None
    for block in recipients:
        action = _header(block, "Action").lower()
        diagnostic = _header(block, "Diagnostic-Code")
        found = _STATUS.search(_header(block, "Status")) or _STATUS.search(diagnostic)
        if found is None:
            continue
        status = found.group(0)
        kind = "soft_bounce" if action == "delayed" else _status_kind(status, action)
        if action in ("delivered", "relayed", "expanded"):
            kind = "ignored"
        candidate = Feedback(
            kind,
            receipt,
            message_id=message_id,
            recipient=_address(_header(block, "Final-Recipient"))
            or _address(_header(block, "Original-Recipient")),
            status=status,
            detail=diagnostic.partition(";")[2].strip()[:500] or diagnostic[:500],
            reporter=reporter,
            occurred_at=occurred,
            extra={"action": action},
        )
        order = ("hard_bounce", "soft_bounce", "ignored")
        if worst is None or order.index(candidate.kind) < order.index(worst.kind):
            worst = candidate
    if worst is None:
        return Feedback(
            "unrecognised", receipt, message_id=message_id, detail="no recipient with a status"
        )
    return worst


def _status_blocks(msg: Message) -> tuple[Message, list[Message]] | None:
    for part in msg.walk():
        if part.get_content_type() not in (
            "message/delivery-status",
            "message/global-delivery-status",
        ):
            continue
        payload = part.get_payload()
        if isinstance(payload, list) and payload and all(isinstance(p, Message) for p in payload):
            blocks = [p for p in payload if isinstance(p, Message)]
        else:
            text = payload if isinstance(payload, str) else _text(part)
            chunks = [c for c in re.split(r"\r?\n\s*\r?\n", text.strip()) if c.strip()]
            blocks = [message_from_string(c + "\n\n", policy=compat32) for c in chunks]
        if not blocks:
            return None
        recipients = [b for b in blocks[1:] if b.get("Action") or b.get("Status")]
        if not recipients and (blocks[0].get("Action") or blocks[0].get("Status")):
            recipients = [blocks[0]]
        return blocks[0], recipients
    return None


def _arf(msg: Message, receipt: str, reporter: str) -> Feedback:
    report = None
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                report = payload[0]
            else:
                text = payload if isinstance(payload, str) else _text(part)
                report = message_from_string(text.strip() + "\n\n", policy=compat32)
            break
    if report is None or not _header(report, "Feedback-Type"):
        return Feedback("unrecognised", receipt, detail="report without a feedback-report part")
    feedback_type = _header(report, "Feedback-Type").lower()
    returned = _returned_headers(msg)
    kind: FeedbackKind = "complaint" if feedback_type in COMPLAINT_TYPES else "ignored"
    return Feedback(
        kind,
        receipt,
        message_id=message_id_from(returned, _all_text(msg)),
        recipient=_address(_header(report, "Original-Rcpt-To"))
        or (_address(_header(returned, "To")) if returned is not None else None),
        detail=feedback_type,
        reporter=_header(report, "Reporting-MTA").partition(";")[2].strip()
        or _header(report, "User-Agent")
        or reporter,
        occurred_at=_when(report, "Arrival-Date", "Received-Date") or _when(msg, "Date"),
        extra={"feedback_type": feedback_type, "user_agent": _header(report, "User-Agent")},
    )


def _is_auto_reply(msg: Message) -> bool:
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if msg.get("X-Autoreply") or msg.get("X-Autorespond") or msg.get("X-Autoresponder"):
        return True
    if _header(msg, "Precedence").lower() == "auto_reply":
        return True
    if _header(msg, "X-Auto-Response-Suppress") and _AUTO_SUBJECT.search(_header(msg, "Subject")):
        return True
    return bool(_AUTO_SUBJECT.search(_header(msg, "Subject")))


def _in_reply_to(msg: Message) -> str | None:
    found = _MESSAGE_ID.search(_header(msg, "In-Reply-To"))
    return found.group(1) if found and _CLARION_ID.match(found.group(1)) else None


def _plain_bounce(msg: Message, receipt: str, sender: str) -> Feedback | None:
    """An old-style bounce from a mailer daemon with no DSN part (qmail, some gateways)."""
    if not _DAEMON.search(sender) and not _DAEMON.search(_header(msg, "Subject")):
        return None
    text = _all_text(msg)
    found = _STATUS.search(text)
    status = found.group(0) if found else None
    if status is None:
        code = _SMTP_CODE.search(text)
        if code is None:
            return Feedback("unrecognised", receipt, detail="bounce without a status code")
        status = f"{code.group(1)}.0.0"
    returned = _returned_headers(msg)
    return Feedback(
        _status_kind(status, "failed"),
        receipt,
        message_id=message_id_from(returned, text),
        status=status,
        detail=text.strip().splitlines()[0][:500] if text.strip() else "",
        reporter=sender,
        occurred_at=_when(msg, "Date"),
    )


def classify(raw: bytes) -> Feedback:  # noqa: PLR0911 - one return per kind of report
    """Read and classify one email returned to the sender; never raises on bad input."""
    receipt = receipt_of(raw)
    if len(raw) > MAX_REPORT_BYTES:
        raw = raw[:MAX_REPORT_BYTES]
    try:
        msg = message_from_bytes(raw, policy=compat32)
    except Exception as error:  # the stdlib parser is lenient; this is a last resort
        return Feedback("unrecognised", receipt, detail=f"unreadable: {error}"[:200])
    sender = _header(msg, "From")
    if msg.get_content_type() == "multipart/report":
        report_type = str(msg.get_param("report-type") or "").lower()
        if report_type == "delivery-status":
            return _dsn(msg, receipt, sender)
        if report_type == "feedback-report":
            return _arf(msg, receipt, sender)
        if report_type:
            return Feedback("ignored", receipt, detail=f"report-type {report_type[:40]}")
    if _is_auto_reply(msg) and not _DAEMON.search(sender):
        return Feedback(
            "auto_reply",
            receipt,
            message_id=_in_reply_to(msg),
            detail=_header(msg, "Subject")[:200],
            reporter=sender,
        )
    plain = _plain_bounce(msg, receipt, sender)
    if plain is not None:
        return plain
    return Feedback("unrecognised", receipt, detail="neither a report nor a bounce")
