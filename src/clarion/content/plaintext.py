"""The plain-text part of an email, written from its HTML: paragraphs, lists, `text (url)`."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Final, Literal, TypeAlias

Keep: TypeAlias = Literal["drop", "keep", "opening"]
_SKIP: Final = frozenset({"head", "style", "script", "title", "template", "noscript"})
_VOID: Final = frozenset(
    {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "source", "wbr"}
)
_PARAGRAPH: Final = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "hr"}
)
_LINE: Final = frozenset({"div", "tr", "li", "td", "th", "section", "header", "footer"})
_HIDDEN: Final = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_SPACE: Final = re.compile(r"[ \t\r\n\f\v]+")
_SPACES: Final = re.compile(r" {2,}")
_BLANKS: Final = re.compile(r"\n{3,}")


class _Writer(HTMLParser):
    def __init__(self, keep: Callable[[str, bool], Keep]) -> None:
        super().__init__(convert_charrefs=True)
        self.keep = keep  # whether a comment (in hidden content or not) goes into the text
        self.parts: list[str] = []
        self.skip_tag: str | None = None
        self.skip_depth = 0
        self.links: list[tuple[str, int]] = []  # open <a>: href, where its text starts
        self.pending = 0  # newlines owed before the next text: 1 a line break, 2 a paragraph

    def brk(self, newlines: int) -> None:
        self.pending = max(self.pending, newlines)

    def write(self, text: str) -> None:
        if self.pending:
            self.parts.append("\n" * self.pending)
            self.pending = 0
        self.parts.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if self.skip_tag is not None:
            self.skip_depth += tag == self.skip_tag
            return
        if tag not in _VOID and (tag in _SKIP or _HIDDEN.search(values.get("style") or "")):
            self.skip_tag, self.skip_depth = tag, 1
            return
        if tag in _PARAGRAPH:
            self.brk(2)
        elif tag in _LINE:
            self.brk(1)
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.write("- ")
        elif tag == "hr":
            self.write("----")
            self.brk(2)
        elif tag == "img" and values.get("alt"):
            self.write(f" {values['alt']} ")
        elif tag == "a":
            self.links.append((values.get("href") or "", len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if self.skip_tag is not None:
            self.skip_depth -= tag == self.skip_tag
            if self.skip_depth == 0:
                self.skip_tag = None
            return
        if tag == "a" and self.links:
            href, start = self.links.pop()
            label = _SPACE.sub(" ", "".join(self.parts[start:])).strip()
            if href and not href.startswith(("#", "mailto:")) and href != label:
                self.write(f" ({href})" if label else href)
        elif tag in _PARAGRAPH:
            self.brk(2)
        elif tag in _LINE:
            self.brk(1)

    def handle_data(self, data: str) -> None:
        if self.skip_tag is None:
            text = _SPACE.sub(" ", data)
            if text.strip():
                self.write(text)
            elif text:
                self.parts.append(text)
        else:  # statements inside skipped text (a style block) still shape the template
            for comment in re.findall(r"<!--.*?-->", data, re.S):
                self.comment(comment, hidden=True)

    def handle_comment(self, data: str) -> None:
        self.comment(f"<!--{data}-->", hidden=self.skip_tag is not None)

    def comment(self, comment: str, *, hidden: bool) -> None:
        keep = self.keep(comment, hidden)
        if keep == "opening":  # the breaks owed so far come before the block, not inside it
            self.write(comment)
        elif keep == "keep":
            self.parts.append(comment)


def html_to_text(
    html: str, keep_comment: Callable[[str, bool], Keep] = lambda _comment, _hidden: "drop"
) -> str:
    """Readable text of ``html``. A comment is dropped unless ``keep_comment(comment, hidden)``
    says to keep it (``hidden``: it sits in content the text leaves out, such as a style
    block); an "opening" one (a loop or condition) goes after the line breaks owed so far."""
    writer = _Writer(keep_comment)
    writer.feed(html)
    writer.close()
    lines = [line.strip() for line in "".join(writer.parts).split("\n")]
    return tidy("\n".join(lines))


def tidy(text: str) -> str:
    """One space at most between words, one blank line at most in a row, none at either end
    (also run after personalisation, which can leave gaps where a value was empty)."""
    if "  " in text or " \n" in text:
        text = _SPACES.sub(" ", text).replace(" \n", "\n")
    return _BLANKS.sub("\n\n", text).strip() + "\n"
