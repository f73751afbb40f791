"""Hostile templates are refused at compile time or stopped while rendering."""

from __future__ import annotations

import itertools

import pytest

from clarion.content.contracts import RenderFailed
from clarion.content.render import compile_email
from clarion.core.errors import InvalidInput

CONTACT = {"first_name": "Jo", "attributes": {"tags": list(range(500))}}


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ ''.__class__ }}", "attribute '__class__': names starting with _"),
        ("{{ ''['__class__'] }}", "key '__class__': names starting with _"),
        ("{{ first_name.__class__.__mro__ }}", "names starting with _"),
        ("{{ range.__call__ }}", "names starting with _"),
        ("{{ first_name.upper() }}", "only range() can be called"),
        ("{{ lipsum() }}", "only range() can be called"),
        ("{% set x = 1 %}", "{% set %} is not allowed"),
        ("{% macro m() %}{% endmacro %}", "{% macro %} is not allowed"),
        ("{% with a = 1 %}{% endwith %}", "is not allowed"),
        ("{% filter upper %}x{% endfilter %}", "{% filter %} is not allowed"),
        ('{% import "x" as y %}', "{% import %} is not allowed"),
        ('{% extends "base" %}', "{% extends %} is not allowed"),
        ("{% include name %}", "{% include %} (use a snippet key in quotes) is not allowed"),
        ("{% for x in attributes recursive %}{% endfor %}", "recursive loops are not allowed"),
        ("{{ self }}", "'self' is not available"),
        ("{{ first_name | safe }}", "No filter named 'safe'"),
        ("{{ first_name | attr('__class__') }}", "No filter named 'attr'"),
        ("{{ 'x' | center(999999999) }}", "No filter named 'center'"),
        ("{{ first_name | loop_guard }}", "unknown filter 'loop_guard'"),
    ],
)
def test_hostile_templates_are_refused_at_compile_time(template: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compile_email("s", f"<p>\n{template}</p>", "html")
    assert caught.value.problems[0].path == "body"
    assert caught.value.problems[0].problem.startswith("line 2: ")
    assert problem in caught.value.problems[0].problem


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{% for i in range(10**9) %}x{% endfor %}", "range() is limited to 1,000 items"),
        ("{{ 'a' * 10**9 }}", "a value grew past 100,000"),
        ("{{ [0] * 10**6 }}", "a value grew past 100,000"),
        ("{{ 10 ** 100000 }}", "exponents are limited"),
        ("{{ ((10 ** 64) ** 64) ** 64 }}", "numbers are limited to 4,096 bits"),
        ("{{ '%999999999d' % 1 }}", "string formatting with % is not available"),
        (
            "{{ 'aaaa' | replace('a', 'a' * 60) | replace('a', 'a' * 60)"
            " | replace('a', 'a' * 60) }}",
            "replace() would grow a value past 100,000",
        ),
        (
            "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}",
            "too many loop steps",
        ),
        (
            "{% for a in attributes.tags %}{% for b in attributes.tags %}{% endfor %}{% endfor %}",
            "too many loop steps",
        ),
        ("{% for x in range(999) %}{{ 'y' * 99999 }}{% endfor %}", "longer than 1,000,000"),
        ("{{ cycler }}", "'cycler' is undefined"),
        ("{{ config }}", "'config' is undefined"),
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
    ],
)
def test_hostile_renders_are_stopped_with_a_reason(template: str, problem: str) -> None:
    renderer = compile_email("s", f"<p>{template}</p>", "html", strict=True)
    with pytest.raises(RenderFailed, match=r"^body: ") as caught:
        renderer.render(CONTACT)
    assert problem in str(caught.value)


def test_the_render_deadline_stops_a_slow_template() -> None:
    ticks = itertools.count()  # a fake timer: every reading is one more second
    renderer = compile_email(
        "s",
        "<p>{% for a in range(50) %}{% for b in range(50) %}.{% endfor %}{% endfor %}</p>",
        "html",
        seconds=10,
        timer=lambda: float(next(ticks)),
    )
    with pytest.raises(RenderFailed, match="took too long"):
        renderer.render({})


def test_a_failed_render_does_not_poison_the_next_one() -> None:
    renderer = compile_email(
        "s", "<p>{% for x in attributes.tags %}{{ x }}{% endfor %}</p>", "html"
    )
    with pytest.raises(RenderFailed):
        renderer.render({"attributes": {"tags": list(range(200_000))}})
    assert renderer.render({"attributes": {"tags": [1, 2]}}).text == "12\n"


def test_a_huge_contact_value_is_stopped_by_the_output_limit() -> None:
    renderer = compile_email("s", "<p>{{ attributes.note }}</p>", "html")
    with pytest.raises(RenderFailed, match="body: longer than 1,000,000 characters"):
        renderer.render({"attributes": {"note": "x" * 1_200_000}})


def test_contact_values_cannot_reach_python_internals_through_the_template() -> None:
    class Sneaky:
        secret = "s3cret"

        def run(self) -> str:
            return "ran"

    renderer = compile_email(
        "s", "<p>{{ attributes.obj.secret }}{{ attributes.obj.run }}</p>", "html"
    )
    email = renderer.render({"attributes": {"obj": Sneaky()}})
    assert "s3cret" in email.html  # plain data is readable
    assert "ran" not in email.html and "bound method" not in email.html  # methods are not
