"""Template tags set aside and put back: nothing lost, nothing gained (property tests)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from clarion.content import tags
from clarion.content.plaintext import html_to_text
from clarion.content.sandbox import ContentEnvironment

LITERAL = st.text(alphabet="abc XYZ}%#<>&;:/\n", max_size=12)
TAG = st.sampled_from(
    [
        "{{ name }}",
        '{{ name | default("}}") }}',
        "{% if name %}",
        "{% endif %}",
        "{# a comment with {{ braces }} #}",
        "{{ '%}' }}",
    ]
)


@st.composite
def templates(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.tuples(LITERAL, TAG), max_size=8))
    opened = 0
    out = []
    for literal, tag in pieces:
        if tag == "{% endif %}":
            if not opened:
                continue
            opened -= 1
        opened += tag == "{% if name %}"
        out.append(literal + tag)
    return "".join(out) + "{% endif %}" * opened + draw(LITERAL)


@given(templates(), st.sampled_from(["", "Jo", "<b>&</b>"]))
def test_protect_then_restore_renders_like_the_original(source: str, name: str) -> None:
    env = ContentEnvironment(html=True, strict=False)
    protected = tags.protect(source)
    assert "{{" not in protected.text and "{%" not in protected.text
    restored, missing = tags.restore(protected.text, protected)
    assert missing == []
    expected = env.from_string(source).render(name=name)
    assert env.from_string(restored).render(name=name) == expected


@given(st.text(max_size=200))
def test_any_text_in_html_comes_out_as_text_without_crashing(text: str) -> None:
    out = html_to_text(f"<p>{text}</p>")
    assert out.endswith("\n")


def test_a_placeholder_cannot_be_forged_by_the_template_text() -> None:
    source = "<!--tag-0000000000000000-0--> {{ name }}"
    protected = tags.protect(source)
    restored, _ = tags.restore(protected.text, protected)
    assert restored.startswith("<!--tag-0000000000000000-0-->")
    assert restored.endswith("{{ name }}")
