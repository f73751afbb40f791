"""Find a rendered email's links and point them at signed click redirects; add the pixel."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Sequence
from typing import Final

MAX_LINKS: Final = 200  # a click token's index has at most 4 digits; an email needs far fewer
_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"'\s<>]+)\2""", re.IGNORECASE)
_TEXT_URL = re.compile(r"https?://[^\s<>\"')\]]+")


def collect_links(html: str) -> list[str]:
    """The distinct http(s) destinations of the ``<a href>`` links, in order of appearance."""
    found: dict[str, None] = {}
    for match in _HREF.finditer(html):
        found.setdefault(html_lib.unescape(match.group(3)), None)
        if len(found) == MAX_LINKS:
            break
    return list(found)


def rewrite(html: str, text: str, links: Sequence[str], clicks: Sequence[str]) -> tuple[str, str]:
    """``html`` and ``text`` with each link's destination replaced by its click redirect."""
    redirect = dict(zip(links, clicks, strict=True))

    def in_html(match: re.Match[str]) -> str:
        click = redirect.get(html_lib.unescape(match.group(3)))
        if click is None:
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}{click}{match.group(2)}"

    def in_text(match: re.Match[str]) -> str:
        url = match.group(0)
        return redirect.get(url, url)

    return _HREF.sub(in_html, html), _TEXT_URL.sub(in_text, text)


def add_pixel(html: str, pixel_url: str) -> str:
    """``html`` with a 1×1 open pixel just before ``</body>`` (or at the end)."""
    tag = f'<img src="{pixel_url}" width="1" height="1" alt="" style="display:block;border:0">'
    at = html.lower().rfind("</body>")
    return html + tag if at < 0 else html[:at] + tag + html[at:]
