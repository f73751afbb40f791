"""Build one email's wire bytes: headers (Message-ID, List-Unsubscribe), text and HTML parts."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr

from clarion.delivery.dkim import DkimKey, dkim_sign


@dataclass(frozen=True)
class Envelope:
    """What every email of a send shares: sender, Reply-To, sending domain, DKIM key."""

    sender: str  # the bare address for MAIL FROM
    from_header: str  # the encoded From header value
    reply_to: str | None
    domain: str  # the sending domain: Message-ID's right-hand side
    unsubscribe_mailto: str | None = None
    dkim: DkimKey | None = None


def envelope_for(
    from_address: str,
    *,
    reply_to: str | None = None,
    domain: str | None = None,
    unsubscribe_mailto: str | None = None,
    dkim: DkimKey | None = None,
) -> Envelope:
    """An envelope from ``Name <address>`` text; the domain defaults to the address's."""
    name, address = parseaddr(from_address)
    if "@" not in address:
        raise ValueError(f"not an email address: {from_address!r}")
    reply = parseaddr(reply_to)[1] if reply_to else None
    return Envelope(
        sender=address,
        from_header=formataddr((name, address), charset="utf-8"),
        reply_to=reply,
        domain=domain or address.rsplit("@", 1)[1],
        unsubscribe_mailto=unsubscribe_mailto,
        dkim=dkim,
    )


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _subject(subject: str) -> str:
    subject = _one_line(subject)
    if subject.isascii() and len(subject) < 900:
        return subject
    return Header(subject, "utf-8").encode(maxlinelen=76, linesep="\r\n")


def _part(content_type: str, body: str) -> bytes:
    encoded = base64.encodebytes(body.encode("utf-8")).replace(b"\n", b"\r\n")
    head = (
        f"Content-Type: {content_type}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    return head.encode("ascii") + encoded


def build_message(
    *,
    message_id: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    envelope: Envelope,
    unsubscribe_url: str,
    date: datetime,
) -> bytes:
    """The email as CRLF bytes, DKIM-signed when the envelope carries a key."""
    unsubscribe = f"<{unsubscribe_url}>"
    if envelope.unsubscribe_mailto:
        unsubscribe += f", <mailto:{envelope.unsubscribe_mailto}?subject=unsubscribe-{message_id}>"
    boundary = f"=_{message_id}"
    headers = [
        f"From: {envelope.from_header}",
        f"To: <{to}>",
        f"Subject: {_subject(subject)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: <{message_id}@{envelope.domain}>",
        f"X-Clarion-Message: {message_id}",
        f"List-Unsubscribe: {unsubscribe}",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    ]
    if envelope.reply_to:
        headers.append(f"Reply-To: <{envelope.reply_to}>")
    headers += [
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    body = b"".join(
        [
            f"--{boundary}\r\n".encode(),
            _part("text/plain", text),
            f"--{boundary}\r\n".encode(),
            _part("text/html", html),
            f"--{boundary}--\r\n".encode(),
        ]
    )
    message = ("\r\n".join(headers) + "\r\n\r\n").encode("utf-8") + body
    if envelope.dkim is not None:
        message = dkim_sign(message, envelope.dkim) + message
    return message
