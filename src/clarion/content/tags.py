"""Template tags set aside while MJML and the CSS inliner work, and put back afterwards."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

# A Jinja tag: {{ … }}, {% … %} or {# … #}, with quoted strings that may contain braces.
_TAG: Final = re.compile(
    r"""\{\{(?:"[^"]*"|'[^']*'|[^"'}]|\}(?!\}))*\}\}"""
    r"""|\{%(?:"[^"]*"|'[^']*'|[^"'%]|%(?!\}))*%\}"""
    r"""|\{\#.*?\#\}""",
    re.DOTALL,
)


@dataclass(frozen=True)
class Protected:
    """A template with each tag replaced by a placeholder that MJML and the inliner keep.

    A statement ({% … %}) becomes an HTML comment, which HTML parsers leave where it is even
    between table rows, and which keeps the tag's newlines (so MJML's line numbers stay right).
    An expression ({{ … }}) becomes a plain word, which survives in text, attributes, styles
    and MJML's preview text. Both carry a nonce derived from the source, so text in the
    template cannot pose as one. Template comments ({# … #}) are dropped.
    """

    text: str
    tags: tuple[str, ...]
    lines: tuple[int, ...]  # the line each tag starts on
    nonce: str

    def pattern(self) -> re.Pattern[str]:
        """Matches a placeholder (group 1 or 2: the tag's index), also as a serialiser escaped
        it."""
        return re.compile(
            rf"(?:<!--|&lt;!--)tag-{self.nonce}-(\d+)\n*(?:-->|--&gt;)|tag{self.nonce}x(\d+)x"
        )

    @staticmethod
    def index(match: re.Match[str]) -> int:
        """The tag index a ``pattern()`` match stands for."""
        return int(match.group(1) or match.group(2))


def protect(source: str) -> Protected:
    """Set every template tag of ``source`` aside (see Protected)."""
    nonce = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    tags: list[str] = []
    lines: list[int] = []

    def swap(match: re.Match[str]) -> str:
        tag = match.group(0)
        newlines = "\n" * tag.count("\n")
        if tag.startswith("{#"):
            return newlines
        lines.append(source.count("\n", 0, match.start()) + 1)
        tags.append(tag)
        if tag.startswith("{{"):
            return f"tag{nonce}x{len(tags) - 1}x"
        return f"<!--tag-{nonce}-{len(tags) - 1}{newlines}-->"

    text = _TAG.sub(swap, source)
    return Protected(text, tuple(tags), tuple(lines), nonce)


def restore(converted: str, protected: Protected) -> tuple[str, list[int]]:
    """``converted`` as a template again: placeholders become their tags, and every literal
    brace is escaped so that text an HTML serialiser decoded cannot turn into a tag.

    Returns the template and the indexes of tags that no longer appear (dropped on the way).
    """
    out: list[str] = []
    seen: set[int] = set()
    position = 0
    for match in protected.pattern().finditer(converted):
        out.append(_escape(converted[position : match.start()]))
        index = Protected.index(match)
        if index < len(protected.tags):
            out.append(protected.tags[index])
            seen.add(index)
        position = match.end()
    out.append(_escape(converted[position:]))
    missing = [i for i in range(len(protected.tags)) if i not in seen]
    return "".join(out), missing


def _escape(literal: str) -> str:
    return literal.replace("{", '{{ "{" }}') if "{" in literal else literal
