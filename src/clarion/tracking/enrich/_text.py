"""Hostile text made safe to keep: capped, control characters dropped, hosts validated."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import SplitResult, parse_qsl, urlsplit

# The longest URL worth reading. Browsers accept far longer ones, but no real landing page or
# referrer needs more, and everything posted by the public is capped before it is parsed.
MAX_URL_CHARS = 8192

# C0/C1 control characters and the Unicode bidirectional overrides: stored and later shown in
# reports, they would corrupt logs or make a value read differently from what it is.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# A host name we keep, once internationalised names are in their ASCII (punycode) form: letters,
# digits, dots, hyphens, underscores, and colons for IPv6 literals. Anything else (spaces,
# quotes, percent escapes, `@`) is not a host.
_HOST = re.compile(r"[a-z0-9._:-]+")
_MAX_HOST_CHARS = 253


def clean_text(value: str, limit: int) -> str | None:
    """``value`` without control characters, trimmed and capped at ``limit``; None when empty."""
    text = _UNSAFE.sub("", value[: 4 * limit]).strip()
    text = text[:limit].rstrip()
    return text or None


def split_url(url: str) -> SplitResult | None:
    """``urlsplit`` of the capped URL, or None where the standard library refuses it."""
    try:
        return urlsplit(url[:MAX_URL_CHARS].strip())
    except ValueError:
        return None


def clean_host(host: str | None) -> str | None:
    """A lower-case ASCII host name without a trailing dot or ``www.``, or None when it is not
    one; internationalised names are stored in punycode, so "bücher.de" is "xn--bcher-kva.de"."""
    if not host:
        return None
    host = unicodedata.normalize("NFKC", host[: 4 * _MAX_HOST_CHARS]).lower().strip(".")
    host = host.removeprefix("www.")
    if not host or len(host) > _MAX_HOST_CHARS or ".." in host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host if _HOST.fullmatch(host) else None


def host_of(parts: SplitResult | None) -> str | None:
    """The cleaned host of a split URL (IPv6 literals without brackets), or None."""
    if parts is None:
        return None
    try:
        return clean_host(parts.hostname)
    except ValueError:
        return None


def query_of(url: str) -> str:
    """The query string of ``url``: after the first ``?`` and before the fragment, capped."""
    before_fragment = url.partition("#")[0]
    return before_fragment.partition("?")[2][:MAX_URL_CHARS]


def first_values(query: str, limit: int) -> dict[str, str]:
    """Query parameters by lower-case name: each name's first value still present once cleaned."""
    values: dict[str, str] = {}
    for name, raw in parse_qsl(query, keep_blank_values=False):
        key = name.strip().lower()
        if key in values:
            continue
        value = clean_text(raw, limit)
        if value is not None:
            values[key] = value
    return values
