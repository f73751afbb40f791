"""The renderer: a template version compiled once into an EmailRenderer, rendered per contact.

Compiling does the slow work once: snippets expanded, MJML turned into HTML, CSS inlined, the
plain-text part written from the HTML, and all three parts compiled by the sandbox. Rendering
one contact is then three sandboxed template renders, streamed against size and time budgets.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Final, Literal, TypeAlias

import css_inline
import mjml
from jinja2 import Template
from jinja2.exceptions import TemplateSyntaxError

from clarion.audiences.contracts import CONTACT_FIELDS
from clarion.content import plaintext, tags
from clarion.content.contracts import EmailRenderer, RenderedEmail, RenderFailed
from clarion.content.sandbox import Budget, ContentEnvironment, render_budget
from clarion.core.errors import FieldProblem, InvalidInput

# The variables a template sees: the contact's fields by name, and its attributes.
TEMPLATE_FIELDS: Final = ("id", *CONTACT_FIELDS, "attributes")
Kind: TypeAlias = Literal["mjml", "html"]
KINDS: Final = ("mjml", "html")
MAX_SOURCE: Final = 500_000  # characters of a body, snippets included
MAX_SUBJECT_SOURCE: Final = 2_000
MAX_SUBJECT: Final = 998  # characters of a rendered subject (RFC 5322's line limit)
MAX_HTML: Final = 1_000_000  # characters of one rendered HTML part
MAX_TEXT: Final = 500_000
RENDER_SECONDS: Final = 0.5  # per recipient, all three parts together

# {% include "key" %}: a snippet, expanded into the body before anything else happens.
INCLUDE: Final = re.compile(r"""\{%-?\s*include\s+(["'])([^"'\n]{1,120})\1\s*-?%\}""")
OPENING: Final = re.compile(r"\{%-?\s*(for|if)\b")
_NEWLINES: Final = re.compile(r"[\r\n\t\v\f\x00-\x1f\x7f]+")
_INLINER: Final = css_inline.CSSInliner(
    load_remote_stylesheets=False,  # renders offline; a <link> stays a link, nothing is fetched
    keep_link_tags=True,
    keep_at_rules=True,  # MJML's responsive @media rules must stay in <style>
)


class CompiledEmail:
    """One template version ready to render: the EmailRenderer the sender and preview use."""

    def __init__(
        self,
        subject: Template,
        html: Template,
        text: Template,
        *,
        seconds: float = RENDER_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._subject = subject
        self._html = html
        self._text = text
        self._seconds = seconds
        self._timer = timer

    def render(self, contact: Mapping[str, object]) -> RenderedEmail:
        """The email for ``contact``; RenderFailed when a budget is exceeded or a part breaks."""
        # A field without a value is undefined, so that its fallback (`default`) applies.
        fields = {name: value for name, value in contact.items() if value is not None}
        with render_budget(self._seconds, self._timer) as budget:
            subject = _part(budget, "subject", self._subject, fields, MAX_SUBJECT)
            html = _part(budget, "body", self._html, fields, MAX_HTML)
            text = plaintext.tidy(_part(budget, "text", self._text, fields, MAX_TEXT))
        return RenderedEmail(subject=_NEWLINES.sub(" ", subject).strip(), html=html, text=text)


def _part(
    budget: Budget, name: str, template: Template, contact: dict[str, object], limit: int
) -> str:
    """One part, streamed: stopped as soon as it is too long or the deadline has passed."""
    parts: list[str] = []
    size = 0
    try:
        # root_render_func is what Template.generate() iterates, minus its traceback
        # rewriting: one generator layer less per chunk on the sender's hot path.
        for chunk in template.root_render_func(template.new_context(contact)):
            size += len(chunk)
            if size > limit:
                raise RenderFailed(f"longer than {limit:,} characters")
            parts.append(chunk)
            if len(parts) % 32 == 0:
                budget.check_time()
        budget.check_time()
    except RenderFailed as exc:
        raise RenderFailed(f"{name}: {exc}") from None
    except Exception as exc:  # one recipient's broken render must not stop a send
        raise RenderFailed(f"{name}: {type(exc).__name__}: {str(exc)[:300]}") from exc
    return "".join(parts)


def compile_email(
    subject: str,
    body: str,
    kind: Kind,
    *,
    snippets: Mapping[str, str] | None = None,
    strict: bool = False,
    seconds: float = RENDER_SECONDS,
    timer: Callable[[], float] = time.monotonic,
) -> EmailRenderer:
    """Compile a template version into a renderer; InvalidInput names each problem's field
    (``subject``, ``body``, ``snippets.KEY``) and line.

    ``strict`` (preview): a variable that is neither a contact field nor set fails the render;
    otherwise (sending) anything undefined renders empty. A field whose value is None counts
    as undefined, so ``{{ first_name | default("there") }}`` falls back.
    ``snippets``: key → source of the snippets ``{% include "key" %}`` may name.
    """
    return compile_parts(
        subject, body, kind, snippets=snippets, strict=strict, seconds=seconds, timer=timer
    )


def compile_parts(
    subject: str,
    body: str,
    kind: Kind,
    *,
    snippets: Mapping[str, str] | None = None,
    strict: bool = False,
    seconds: float = RENDER_SECONDS,
    timer: Callable[[], float] = time.monotonic,
) -> CompiledEmail:
    """compile_email, typed as the concrete CompiledEmail."""
    if kind not in KINDS:
        problem = f"unknown kind {str(kind)[:20]!r}; kinds: {', '.join(KINDS)}"
        raise InvalidInput(problem, [FieldProblem("kind", problem)])
    html_env = ContentEnvironment(html=True, strict=strict, known=TEMPLATE_FIELDS)
    text_env = ContentEnvironment(html=False, strict=strict, known=TEMPLATE_FIELDS)
    problems: list[FieldProblem] = []
    subject_template = _compile_subject(text_env, subject, problems)
    expanded = _expand(html_env, body, snippets or {}, problems)
    if problems or expanded is None:
        raise _invalid(problems)
    protected = tags.protect(expanded)
    page = _to_html(protected.text, kind, problems)
    if page is None:
        raise _invalid(problems)
    html_source, missing = tags.restore(page, protected)
    for index in missing:
        problems.append(
            FieldProblem(
                "body",
                f"line {protected.lines[index]}: {protected.tags[index][:60]} sits where the "
                f"{'MJML renderer' if kind == 'mjml' else 'CSS inliner'} drops it; move it "
                "into text or an attribute",
            )
        )
    pattern = protected.pattern()

    def keep(comment: str, hidden: bool) -> plaintext.Keep:
        match = pattern.fullmatch(comment)
        if match is None:
            return "drop"
        tag = protected.tags[protected.index(match)]
        if OPENING.match(tag):
            return "opening"
        return "keep" if tag.startswith("{%") or not hidden else "drop"

    text_source, _ = tags.restore(plaintext.html_to_text(page, keep), protected)
    html_template = _compile(html_env, html_source, "body", problems)
    text_template = _compile(text_env, text_source, "body", problems)
    if problems or html_template is None or text_template is None or subject_template is None:
        raise _invalid(problems)
    return CompiledEmail(
        subject_template, html_template, text_template, seconds=seconds, timer=timer
    )


def check_snippet(key: str, source: str) -> list[FieldProblem]:
    """The problems of one snippet on its own (syntax, no nested includes), as field problems."""
    problems: list[FieldProblem] = []
    if INCLUDE.search(source):
        problems.append(FieldProblem("body", "a snippet cannot include another snippet"))
    _compile(ContentEnvironment(html=True, strict=False), source, "body", problems, name=key)
    return problems


def _compile_subject(
    env: ContentEnvironment, subject: str, problems: list[FieldProblem]
) -> Template | None:
    if len(subject) > MAX_SUBJECT_SOURCE:
        problems.append(FieldProblem("subject", f"longer than {MAX_SUBJECT_SOURCE} characters"))
        return None
    if not subject.strip():
        problems.append(FieldProblem("subject", "is empty"))
        return None
    return _compile(env, subject, "subject", problems)


def _expand(
    env: ContentEnvironment,
    body: str,
    snippets: Mapping[str, str],
    problems: list[FieldProblem],
) -> str | None:
    """The body with each {% include "key" %} replaced by the snippet, after checking the body
    on its own (so line numbers are the author's)."""
    if len(body) > MAX_SOURCE:
        problems.append(FieldProblem("body", f"longer than {MAX_SOURCE:,} characters"))
        return None
    if not body.strip():
        problems.append(FieldProblem("body", "is empty"))
        return None
    neutral = INCLUDE.sub(lambda m: "{#" + m.group(0)[2:-2] + "#}", body)
    if _compile(env, neutral, "body", problems) is None:
        return None
    for match in INCLUDE.finditer(body):
        key = match.group(2)
        if key not in snippets:
            line = body.count("\n", 0, match.start()) + 1
            problems.append(FieldProblem("body", f"line {line}: unknown snippet {key!r}"))
        else:
            for problem in check_snippet(key, snippets[key]):
                problems.append(FieldProblem(f"snippets.{key}", problem.problem))
    if problems:
        return None
    expanded = INCLUDE.sub(lambda m: snippets[m.group(2)], body)
    if len(expanded) > MAX_SOURCE:
        problems.append(FieldProblem("body", f"with snippets, longer than {MAX_SOURCE:,}"))
        return None
    return expanded


def _to_html(source: str, kind: Kind, problems: list[FieldProblem]) -> str | None:
    try:
        page = mjml.mjml2html(source, disable_comments=False) if kind == "mjml" else source
    except ValueError as exc:
        problems.append(FieldProblem("body", f"MJML: {str(exc)[:300]}"))
        return None
    try:
        return _INLINER.inline(page)
    except (css_inline.InlineError, ValueError) as exc:
        problems.append(FieldProblem("body", f"CSS: {str(exc)[:300]}"))
        return None


def _compile(
    env: ContentEnvironment,
    source: str,
    field: str,
    problems: list[FieldProblem],
    *,
    name: str | None = None,
) -> Template | None:
    try:
        return env.from_string(source)
    except TemplateSyntaxError as exc:
        where = f"line {exc.lineno}" + (f" of snippet {name!r}" if name else "")
        problems.append(FieldProblem(field, f"{where}: {exc.message}"))
        return None


def _invalid(problems: list[FieldProblem]) -> InvalidInput:
    first = problems[0] if problems else FieldProblem("body", "cannot be compiled")
    return InvalidInput(f"invalid template: {first.path}: {first.problem}", problems or [first])
