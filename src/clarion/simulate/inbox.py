"""The simulated people's mail server: refuses bad addresses, keeps and reads what arrives."""

from __future__ import annotations

import base64
import email
import quopri
import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from typing import Any, Final
from urllib.parse import urlsplit

from clarion.delivery.sink import Received, RecordingHandler
from clarion.simulate.population import HARD_BOUNCE, SOFT_BOUNCE, Population

_PIXEL: Final = re.compile(r"""<img\b[^>]*?\bsrc=["']([^"']*/t/o/[^"']+)["']""", re.IGNORECASE)
_CLICK: Final = re.compile(r"""<a\b[^>]*?\bhref=["']([^"']*/t/c/[^"']+)["']""", re.IGNORECASE)
REFUSALS: Final = {
    HARD_BOUNCE: "550 5.1.1 no such mailbox",
    SOFT_BOUNCE: "452 4.2.2 mailbox full",
}


@dataclass(frozen=True)
class Letter:
    """One email as its reader sees it: who, the subject, the pixel, links and unsubscribe."""

    person: int
    subject: str
    pixel: str | None  # the path of the open pixel, if the email has one
    links: tuple[str, ...]  # paths of the click redirects, in order
    unsubscribe: str | None  # the path of the one-click unsubscribe (RFC 8058)


class Mailboxes(RecordingHandler):
    """An aiosmtpd handler: bad addresses are refused as the population says, the rest kept."""

    def __init__(self, population: Population) -> None:
        super().__init__(keep=True)
        self._person = {population.email(i): i for i in range(population.size)}
        self._address = population.address

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        person = self._person.get(address.lower())
        if person is None:
            return "550 5.1.1 no such mailbox"
        refusal = REFUSALS.get(int(self._address[person]))
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def take(self) -> list[Letter]:
        """Everything delivered since the last call, read."""
        with self._lock:
            arrived, self.received = self.received, []
        return [letter for r in arrived for letter in self._read(r)]

    def _read(self, received: Received) -> list[Letter]:
        subject, unsubscribe, html = _parts(received.data)
        pixel = _PIXEL.search(html)
        one_click = re.search(r"<(https?://[^>]*/u/[^>]+)>", unsubscribe)
        letters = []
        for address in received.recipients:
            person = self._person.get(address.lower())
            if person is None:
                continue
            letters.append(
                Letter(
                    person=person,
                    subject=subject,
                    pixel=_path(pixel.group(1)) if pixel else None,
                    links=tuple(_path(m.group(1)) for m in _CLICK.finditer(html)),
                    unsubscribe=_path(one_click.group(1)) if one_click else None,
                )
            )
        return letters


def _parts(data: bytes) -> tuple[str, str, str]:
    """Subject, List-Unsubscribe and the HTML body of a MIME message, read the quick way.

    The sender's messages are simple (headers, then a text and an HTML part), so the HTML part
    is found by its Content-Type and decoded by its transfer encoding; anything else goes
    through the standard library's parser.
    """
    if b"\r\n" not in data:  # bare line feeds: a message not as SMTP carries it
        data = data.replace(b"\n", b"\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    headers = _headers(head)
    subject = str(make_header(decode_header(headers.get("subject", ""))))
    unsubscribe = headers.get("list-unsubscribe", "")
    at = body.find(b"Content-Type: text/html")
    if at >= 0:
        part_head, _, rest = body[at:].partition(b"\r\n\r\n")
        content = rest.split(b"\r\n--", 1)[0]
        encoding = _headers(part_head).get("content-transfer-encoding", "").lower()
        if encoding == "base64":
            return subject, unsubscribe, base64.b64decode(content).decode("utf-8", "replace")
        if encoding == "quoted-printable":
            return subject, unsubscribe, quopri.decodestring(content).decode("utf-8", "replace")
    message = email.message_from_bytes(data)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = part.get_content_charset() or "utf-8"
                return subject, unsubscribe, payload.decode(charset, "replace")
    return subject, unsubscribe, ""


def _headers(block: bytes) -> dict[str, str]:
    """Header fields by lower-case name (the first of each), unfolded."""
    text = re.sub(rb"\r\n[ \t]+", b" ", block).decode("utf-8", "replace")
    fields: dict[str, str] = {}
    for line in text.split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            fields.setdefault(name.strip().lower(), value.strip())
    return fields


def _path(url: str) -> str:
    return urlsplit(url.replace("&amp;", "&")).path
