"""Rendering a template version for one contact: MJML or HTML, CSS inlined, a text part."""

from __future__ import annotations

import pytest

from clarion.content.contracts import EmailRenderer, RenderedEmail, RenderFailed
from clarion.content.render import compile_email
from clarion.core.errors import InvalidInput

NEWSLETTER = """<mjml>
  <mj-head>
    <mj-preview>Spring news for {{ first_name | default("you") }}</mj-preview>
    <mj-style>.lead { color: #d40000; }</mj-style>
  </mj-head>
  <mj-body>
    <mj-section><mj-column>
      <mj-text css-class="lead">Hello {{ first_name | default("there") }},</mj-text>
      <mj-text>
        {% if attributes.plan == "pro" %}Thanks for being a Pro customer.
        {%- else %}Try Pro.{% endif %}
        <ul>{% for item in attributes.interests %}<li>{{ item | title }}</li>{% endfor %}</ul>
      </mj-text>
      <mj-button href="https://shop.example/spring?ref={{ external_id }}">
        See the offer</mj-button>
      <mj-text>Read <a href="https://shop.example/blog">our blog</a>
        &amp; reply {literally}.</mj-text>
    </mj-column></mj-section>
  </mj-body>
</mjml>"""

JANE = {
    "id": "ct_1",
    "external_id": "crm-7",
    "email": "jane@example.com",
    "first_name": "Jane",
    "attributes": {"plan": "pro", "interests": ["gardening", "tools"]},
}


def test_an_mjml_newsletter_renders_subject_html_and_text_for_one_contact() -> None:
    renderer = compile_email("Spring offers for {{ first_name }}", NEWSLETTER, "mjml")

    email = renderer.render(JANE)

    assert isinstance(email, RenderedEmail)
    assert email.subject == "Spring offers for Jane"
    assert "Hello Jane," in email.html
    assert "Thanks for being a Pro customer." in email.html
    assert "<li>Gardening</li><li>Tools</li>" in email.html
    assert 'href="https://shop.example/spring?ref=crm-7"' in email.html
    # CSS is inlined: the class's rule is now a style attribute on the element.
    assert "color: #d40000" in email.html or "color:#d40000" in email.html
    assert "{{" not in email.html and "{%" not in email.html
    assert email.text.startswith("Hello Jane,\nThanks for being a Pro customer.\n\n- Gardening")
    assert "- Gardening\n- Tools" in email.text
    assert "See the offer (https://shop.example/spring?ref=crm-7)" in email.text
    assert "Read our blog (https://shop.example/blog) & reply {literally}." in email.text
    assert "Spring news for" not in email.text  # the hidden preview text is not body text


def test_an_html_template_renders_with_its_style_block_inlined() -> None:
    body = (
        "<html><head><style>p { font-size: 16px }</style></head><body>"
        "<p>Hi {{ first_name }}</p><table><tbody>{% for x in attributes.interests %}"
        "<tr><td>{{ x }}</td></tr>{% endfor %}</tbody></table></body></html>"
    )
    email = compile_email("Hi", body, "html").render(JANE)

    assert '<p style="font-size: 16px;">Hi Jane</p>' in email.html
    assert "<tr><td>gardening</td></tr><tr><td>tools</td></tr>" in email.html
    assert email.text == "Hi Jane\n\ngardening\ntools\n"


@pytest.mark.parametrize(
    ("template", "contact", "expected"),
    [
        ('{{ first_name | default("there") }}', {}, "there"),
        ('{{ first_name | default("there", true) }}', {"first_name": ""}, "there"),
        ("{{ attributes.plan | default('free') }}", {"attributes": {}}, "free"),
        ("{{ attributes.items }}", {"attributes": {"items": 3}}, "3"),
        ("{{ attributes['plan'] | upper }}", {"attributes": {"plan": "pro"}}, "PRO"),
        ("{{ first_name | truncate(5, true, '') }}", {"first_name": "Bartholomew"}, "Barth"),
        ("{% for i in range(3) %}{{ i }}{% endfor %}", {}, "012"),
    ],
)
def test_personalisation_with_fallbacks(
    template: str, contact: dict[str, object], expected: str
) -> None:
    renderer = compile_email("s", f"<p>{template}</p>", "html", strict=True)
    assert renderer.render(contact).text == f"{expected}\n"


def test_an_undefined_variable_fails_the_preview_and_renders_empty_when_sending() -> None:
    body = "<p>Hi {{ nickname }} from {{ attributes.city.name }}</p>"
    with pytest.raises(RenderFailed, match="'nickname' is undefined"):
        compile_email("s", body, "html", strict=True).render({"attributes": {}})

    email = compile_email("s", body, "html").render({"attributes": {}})
    assert email.text == "Hi from\n"


def test_contact_values_are_escaped_in_html_and_never_run_as_template_code() -> None:
    mallory = {
        "first_name": "<script>alert(1)</script>",
        "last_name": "{{ ''.__class__ }}{% for i in range(10**9) %}",
        "attributes": {"note": '"><img src=x onerror=alert(1)>'},
    }
    body = (
        "<p>Hi {{ first_name }} {{ last_name }}</p>"
        '<a href="https://x.example/?n={{ attributes.note }}">go</a>'
    )
    email = compile_email("Hi {{ first_name }}", body, "html").render(mallory)

    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert "{{ &#39;&#39;.__class__ }}{% for i in range(10**9) %}" in email.html
    assert "onerror=alert(1)>" not in email.html
    assert "&#34;&gt;&lt;img" in email.html
    # The text part is plain text: the values appear as written, inert.
    assert (
        "Hi <script>alert(1)</script> {{ ''.__class__ }}{% for i in range(10**9) %}" in email.text
    )
    assert email.subject == "Hi <script>alert(1)</script>"


def test_a_subject_cannot_break_into_other_headers() -> None:
    renderer = compile_email("Hello {{ first_name }}", "<p>x</p>", "html")
    email = renderer.render({"first_name": "Jo\r\nBcc: all@example.com"})
    assert email.subject == "Hello Jo Bcc: all@example.com"


def test_literal_braces_in_the_html_do_not_become_template_code() -> None:
    body = "<p>&#123;&#123; 7 * 7 &#125;&#125; and {{ 6 * 7 }}</p>"
    assert compile_email("s", body, "html").render({}).text == "{{ 7 * 7 }} and 42\n"


@pytest.mark.parametrize(
    ("subject", "body", "kind", "path", "problem"),
    [
        ("s", "<p>\n\n{{ first_name }</p>", "html", "body", "line 3: unexpected '}'"),
        ("s", "<p>{% if x %}</p>", "html", "body", "line 1: Unexpected end of template"),
        ("{{ ", "<p>x</p>", "html", "subject", "line 1:"),
        ("", "<p>x</p>", "html", "subject", "is empty"),
        ("s", "   ", "html", "body", "is empty"),
        ("s", "<mjml><mj-body><mj-section>", "mjml", "body", "MJML:"),
        (
            "s",
            '<mjml><mj-body><mj-include path="/etc/passwd" /></mj-body></mjml>',
            "mjml",
            "body",
            "MJML:",
        ),
        ("s", "<p>x</p>", "pdf", "kind", "unknown kind 'pdf'"),
        ("s", "x" * 500_001, "html", "body", "longer than 500,000 characters"),
    ],
)
def test_invalid_templates_name_the_field_and_line(
    subject: str, body: str, kind: str, path: str, problem: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        compile_email(subject, body, kind)  # type: ignore[arg-type]
    assert caught.value.problems[0].path == path
    assert problem in caught.value.problems[0].problem


def test_a_statement_mjml_would_drop_is_refused_with_its_line() -> None:
    body = (
        "<mjml><mj-head>\n\n<mj-preview>{% if x %}a{% endif %}</mj-preview></mj-head>"
        "<mj-body></mj-body></mjml>"
    )
    with pytest.raises(InvalidInput, match="line 3: \\{% if x %\\} sits where the MJML"):
        compile_email("s", body, "mjml")


def test_snippets_are_included_by_key_and_checked() -> None:
    snippets = {"footer": "<p>Unsubscribe any time, {{ first_name }}.</p>"}
    body = '<p>Hello</p>\n{% include "footer" %}'
    email = compile_email("s", body, "html", snippets=snippets).render({"first_name": "Jo"})
    assert email.text == "Hello\n\nUnsubscribe any time, Jo.\n"

    with pytest.raises(InvalidInput, match="line 2: unknown snippet 'header'"):
        compile_email("s", '<p>x</p>\n{% include "header" %}', "html", snippets=snippets)
    nested = {"footer": '{% include "footer" %}'}
    with pytest.raises(InvalidInput) as caught:
        compile_email("s", '{% include "footer" %}', "html", snippets=nested)
    assert caught.value.problems[0].path == "snippets.footer"
    assert "cannot include another snippet" in caught.value.problems[0].problem


def test_one_compiled_renderer_serves_many_contacts() -> None:
    renderer: EmailRenderer = compile_email("Hi {{ first_name }}", NEWSLETTER, "mjml")
    subjects = {renderer.render({**JANE, "first_name": f"P{i}"}).subject for i in range(200)}
    assert len(subjects) == 200


def test_preview_fails_on_a_misspelt_name_but_shows_a_missing_value_as_sent() -> None:
    body = '<p>Hi {{ first_name | default("there") }} {{ last_name }}, {{ attributes.plan }}</p>'
    preview = compile_email("s", body, "html", strict=True)
    email = preview.render({"first_name": None, "last_name": None, "attributes": {}})
    assert email.text == "Hi there ,\n"

    typo = compile_email("s", "<p>Hi {{ frist_name }}</p>", "html", strict=True)
    with pytest.raises(RenderFailed, match="'frist_name' is undefined"):
        typo.render({"first_name": "Jo"})
    with pytest.raises(RenderFailed, match="'frist_name' is undefined"):
        compile_email("s", "{% if frist_name %}x{% endif %}", "html", strict=True).render({})
