"""The personalisation sandbox: a locked-down Jinja2 environment with render budgets."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Final

from jinja2 import ChainableUndefined, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.filters import FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing, pass_eval_context

from clarion.content.contracts import RenderFailed

MAX_RANGE: Final = 1_000  # items one range() may produce
MAX_ITERATIONS: Final = 100_000  # loop steps over all loops of one render
MAX_VALUE: Final = 100_000  # characters (or items) of one computed value
MAX_EXPONENT: Final = 64
MAX_BITS: Final = 4_096  # of an integer power's result

# The filters a template may use. Left out on purpose: `safe` (contact data is always escaped),
# `format`, `center`, `indent`, `wordwrap` (unbounded output from a small template), `map`,
# `select`, `attr`, `groupby` (reach into objects), `tojson`, `pprint`, `xmlattr`.
ALLOWED_FILTERS: Final = (
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "e",
    "escape",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "max",
    "min",
    "replace",
    "reverse",
    "round",
    "sort",
    "string",
    "striptags",
    "sum",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "wordcount",
)
# The statements and expressions a template may contain; anything else is refused at compile
# time with its line: no {% set %}, macros, call blocks, imports, extends or includes by name
# (snippets are expanded before compiling), no recursive loops.
ALLOWED_NODES: Final = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.If,
    nodes.For,
    nodes.Const,
    nodes.Name,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Slice,
    nodes.Filter,
    nodes.Test,
    nodes.CondExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Neg,
    nodes.Pos,
    nodes.Add,
    nodes.Sub,
    nodes.Mul,
    nodes.Div,
    nodes.FloorDiv,
    nodes.Mod,
    nodes.Pow,
    nodes.Concat,
    nodes.Tuple,
    nodes.List,
    nodes.Dict,
    nodes.Pair,
    nodes.Keyword,
    nodes.Call,
)
_LOOP_GUARD: Final = "loop_guard"  # the filter wrapped around every {% for %} iterable


@dataclass
class Budget:
    """What one render may still spend: time (a deadline) and loop steps."""

    deadline: float
    timer: Callable[[], float]
    iterations: int = MAX_ITERATIONS
    output: int = field(default=0)

    def check_time(self) -> None:
        if self.timer() > self.deadline:
            raise RenderFailed("rendering took too long (the render deadline passed)")

    def step(self) -> None:
        self.iterations -= 1
        if self.iterations < 0:
            raise RenderFailed(f"too many loop steps (more than {MAX_ITERATIONS:,} in one render)")
        if self.iterations % 64 == 0:
            self.check_time()


_BUDGET: ContextVar[Budget | None] = ContextVar("content_render_budget", default=None)


@contextmanager
def render_budget(seconds: float, timer: Callable[[], float] = time.monotonic) -> Iterator[Budget]:
    """The budget of one render on this thread (or task), cleared when the render is over."""
    budget = Budget(deadline=timer() + seconds, timer=timer)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def _budget() -> Budget:
    budget = _BUDGET.get()
    if budget is None:
        # Rendered outside render_budget() (not through render.py): size checks still apply;
        # time and loop steps are bounded per call only, since nothing marks where this
        # render began. Storing a budget here would leave a stale deadline for later renders.
        budget = Budget(deadline=time.monotonic() + 1.0, timer=time.monotonic)
    return budget


def _check_size(value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_VALUE:
        raise RenderFailed(f"a value grew past {MAX_VALUE:,} characters or items")
    return value


def _guarded(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)  # keeps jinja_pass_arg, so Jinja passes the same arguments
    def run(*args: Any, **kwargs: Any) -> Any:
        _budget().check_time()
        return _check_size(func(*args, **kwargs))

    run.__name__ = name
    return run


@pass_eval_context
def _replace(eval_ctx: Any, value: Any, old: str, new: str, count: int | None = None) -> Any:
    """Jinja's replace, refused before it runs when the result would be too large."""
    text = str(value)
    hits = text.count(str(old)) if old else len(text) + 1
    if count is not None:
        hits = min(hits, max(count, 0))
    if len(text) + hits * (len(str(new)) - len(str(old))) > MAX_VALUE:
        raise RenderFailed(f"replace() would grow a value past {MAX_VALUE:,} characters")
    return FILTERS["replace"](eval_ctx, value, old, new, count)


def _loop_guard(iterable: Iterable[Any]) -> Iterator[Any]:
    """Every {% for %} goes through here: one budget step per item."""
    if isinstance(iterable, Mapping):
        iterable = list(iterable)
    budget = _budget()
    for item in iterable:
        budget.step()
        yield item


def _range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise RenderFailed(f"range() is limited to {MAX_RANGE:,} items, not {len(numbers):,}")
    return numbers


class PreviewUndefined(ChainableUndefined):
    """Strict for names a template should not use (a typo such as ``frist_name``), lenient for
    a known contact field or attribute this contact simply has no value for: preview fails on
    the first and shows the second as the contact would receive it (empty, or its fallback)."""

    known: frozenset[str] = frozenset()

    def _strict(self) -> bool:
        return self._undefined_obj is missing and self._undefined_name not in self.known

    def __str__(self) -> str:
        if self._strict():
            self._fail_with_undefined_error()
        return ""

    def __iter__(self) -> Iterator[Any]:
        if self._strict():
            self._fail_with_undefined_error()
        return iter(())

    def __bool__(self) -> bool:
        if self._strict():
            self._fail_with_undefined_error()
        return False

    def __getattr__(self, name: str) -> Any:
        if name[:2] != "__" and self._strict():
            self._fail_with_undefined_error()
        return super().__getattr__(name)

    __getitem__ = __getattr__


class ContentEnvironment(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, stricter: no methods, no underscores, no globals but a small
    range(), an allow-list of filters and statements, and size and time budgets."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, *, html: bool, strict: bool, known: Iterable[str] = ()) -> None:
        """``strict``: fail on undefined names other than ``known`` (see PreviewUndefined)."""
        undefined: type[ChainableUndefined] = ChainableUndefined
        if strict:
            names = frozenset(known)
            undefined = type("KnownUndefined", (PreviewUndefined,), {"known": names})
        super().__init__(
            autoescape=html,
            undefined=undefined,
            auto_reload=False,
            cache_size=0,
            keep_trailing_newline=True,
        )
        self.globals.clear()
        self.globals["range"] = _range
        self.filters = {name: _guarded(name, FILTERS[name]) for name in ALLOWED_FILTERS}
        self.filters["replace"] = _guarded("replace", _replace)
        self.filters[_LOOP_GUARD] = _loop_guard

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Data only: a method (str.format, dict.items…) is never reachable from a template.
        return not callable(value) and super().is_safe_attribute(obj, attr, value)

    def is_safe_callable(self, obj: Any) -> bool:
        return obj is _range

    def getattr(self, obj: Any, attribute: str) -> Any:
        # A contact's attributes are a mapping: `attributes.plan` means its key "plan", even
        # when the key is also a dict method name ("items", "keys").
        if type(obj) is dict or isinstance(obj, Mapping):
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise RenderFailed(f"exponents are limited to {MAX_EXPONENT}")
            if isinstance(left, int) and left.bit_length() * abs(right) > MAX_BITS:
                raise RenderFailed(f"numbers are limited to {MAX_BITS:,} bits")
            return left**right
        if operator == "%":
            if isinstance(left, str):
                raise RenderFailed("string formatting with % is not available in templates")
            return left % right
        for seq, times in ((left, right), (right, left)):
            sized = isinstance(seq, str | list | tuple) and isinstance(times, int)
            if sized and len(seq) * times > MAX_VALUE:
                raise RenderFailed(f"a value grew past {MAX_VALUE:,} characters or items")
        return _check_size(left * right)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        _check_tree(tree, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _LOOP_GUARD, [], [], None, None, lineno=loop.lineno)
        return tree


def _check_tree(tree: nodes.Template, name: str | None, filename: str | None) -> None:
    def refuse(node: nodes.Node, problem: str) -> None:
        raise TemplateSyntaxError(problem, node.lineno or 1, name, filename)

    for node in tree.find_all(nodes.Node):
        if not isinstance(node, ALLOWED_NODES):
            refuse(node, f"{_describe(node)} is not allowed in templates")
        if isinstance(node, nodes.For) and node.recursive:
            refuse(node, "recursive loops are not allowed in templates")
        if isinstance(node, nodes.Name) and node.name == "self":
            refuse(node, "'self' is not available in templates")
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            refuse(node, f"attribute {node.attr!r}: names starting with _ are not allowed")
        if (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and str(node.arg.value).startswith("_")
        ):
            refuse(node, f"key {node.arg.value!r}: names starting with _ are not allowed")
        if isinstance(node, nodes.Filter | nodes.Test) and node.name == _LOOP_GUARD:
            refuse(node, f"unknown filter {node.name!r}")
        if isinstance(node, nodes.Call) and not (
            isinstance(node.node, nodes.Name) and node.node.name == "range"
        ):
            refuse(node, "only range() can be called in templates; use filters instead")


def _describe(node: nodes.Node) -> str:
    statements = {
        "Assign": "{% set %}",
        "AssignBlock": "{% set %}",
        "Macro": "{% macro %}",
        "CallBlock": "{% call %}",
        "FilterBlock": "{% filter %}",
        "Include": "{% include %} (use a snippet key in quotes)",
        "Import": "{% import %}",
        "FromImport": "{% from … import %}",
        "Extends": "{% extends %}",
        "Block": "{% block %}",
        "With": "{% with %}",
        "Scope": "{% with %}",
        "ExprStmt": "{% do %}",
        "Break": "{% break %}",
        "Continue": "{% continue %}",
    }
    kind = type(node).__name__
    return statements.get(kind, kind)
