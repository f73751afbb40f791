"""Signed tokens for open pixels, click redirects and unsubscribe links (HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["o", "c", "u"]  # open, click, unsubscribe
MAX_TOKEN_LENGTH = 256
_MAC_BYTES = 16  # 128-bit tag: forging one is out of reach, and links stay short


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: its kind, the message, and for a click the link index."""

    kind: TokenKind
    message_id: str
    link_index: int | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: str, key: bytes) -> bytes:
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES]


def sign(claims: TokenClaims, key: bytes) -> str:
    """A URL-safe token carrying ``claims``, tamper-evident under ``key``."""
    if "." in claims.message_id:
        raise ValueError("message ids must not contain '.'")
    index = "" if claims.link_index is None else str(claims.link_index)
    payload = _b64(f"{claims.kind}.{claims.message_id}.{index}".encode())
    return f"{payload}.{_b64(_mac(payload, key))}"


def verify(token: str, key: bytes, kind: TokenKind) -> TokenClaims | None:  # noqa: PLR0911 - each refusal is one reason
    """The claims of a genuine token of ``kind``; None for anything forged, altered or odd."""
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        return None
    payload, tag = token.split(".")
    try:
        # Compare the text, not decoded bytes: base64 has spare bits, so two different strings
        # can decode to the same tag, and only the canonical one was ever issued.
        if not hmac.compare_digest(tag.encode("ascii"), _b64(_mac(payload, key)).encode()):
            return None
        found_kind, message_id, index = _unb64(payload).decode("ascii").split(".")
    except (ValueError, UnicodeError):
        return None
    if found_kind != kind or not message_id:
        return None
    if kind == "c":
        if not index.isdigit() or len(index) > 4:
            return None
        return TokenClaims("c", message_id, int(index))
    return TokenClaims(kind, message_id) if index == "" else None
