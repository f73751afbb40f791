"""Rendering: a personalised MJML newsletter per contact, against plain Jinja2 without inlining."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import css_inline
import jinja2
import mjml

from benchmarks.harness import Record
from clarion.content import plaintext, tags
from clarion.content.render import compile_email

NAME = "render"
TARGET_RENDERS = 2_000  # per second on one core: the sender's whole budget is ≥ 1,000/s
SUBJECT = "{{ first_name | default('Hello') }}, your spring picks from {{ city | default('us') }}"
FOOTER = """<mj-section background-color="#f4f4f4"><mj-column>
  <mj-text font-size="11px" color="#777">You get this because you subscribed as
    {{ email }}. Clarion Shop, 1 Market Street.</mj-text>
</mj-column></mj-section>"""
NEWSLETTER = """<mjml>
  <mj-head>
    <mj-title>Spring news</mj-title>
    <mj-preview>New arrivals for {{ first_name | default("you") }}</mj-preview>
    <mj-attributes><mj-all font-family="Helvetica, Arial, sans-serif" /></mj-attributes>
    <mj-style>
      .headline { font-weight: bold; letter-spacing: 1px; }
      .price { color: #0a7c2f; }
      @media (max-width: 480px) { .headline { font-size: 20px !important; } }
    </mj-style>
  </mj-head>
  <mj-body background-color="#ffffff">
    <mj-section><mj-column>
      <mj-image src="https://shop.example/img/logo.png" alt="Clarion Shop" width="160px" />
      <mj-text css-class="headline" font-size="26px">
        Hello {{ first_name | default("there") }}!
      </mj-text>
      <mj-text>
        {% if attributes.plan == "pro" %}As a Pro member you get free delivery all spring.
        {%- else %}Members get free delivery: join for 5 € a month.{% endif %}
      </mj-text>
    </mj-column></mj-section>
    {% for product in attributes.picks %}
    <mj-section><mj-column width="40%">
      <mj-image src="https://shop.example/img/{{ product.sku }}.jpg" alt="{{ product.name }}" />
    </mj-column><mj-column width="60%">
      <mj-text css-class="headline">{{ product.name | title }}</mj-text>
      <mj-text css-class="price">{{ product.price }} €</mj-text>
      <mj-button href="https://shop.example/p/{{ product.sku }}?c={{ id }}">Have a look</mj-button>
    </mj-column></mj-section>
    {% endfor %}
    <mj-section><mj-column>
      <mj-text>Read <a href="https://shop.example/blog">our spring journal</a> or reply to
        this email: a person reads every answer.</mj-text>
    </mj-column></mj-section>
    {% include "footer" %}
  </mj-body>
</mjml>"""
NAMES = ["Jane", "Bob", "Zoë", "Ahmed", "Li", "<b>Max</b>", None]
CITIES = ["Berlin", "Lyon", "Porto", None]
PRODUCTS = ["garden chair", "watering can", "seed box", "rake", "sun hat", "planter"]


def contacts(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Contacts shaped like the sender's: fields plus attributes, some values missing."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        picks = [
            {"sku": f"sku-{rng.randrange(1000)}", "name": name, "price": rng.randrange(5, 90)}
            for name in rng.sample(PRODUCTS, 3)
        ]
        out.append(
            {
                "id": f"ct_{i:08d}",
                "email": f"person{i}@example.com",
                "first_name": rng.choice(NAMES),
                "city": rng.choice(CITIES),
                "attributes": {"plan": rng.choice(["pro", "free"]), "picks": picks},
            }
        )
    return out


def _plain_jinja() -> Callable[[dict[str, Any]], str]:
    """The reference: the MJML rendered to HTML once, then plain Jinja2 (no sandbox, no
    inlining, no text part, no budgets) per contact."""
    protected = tags.protect(NEWSLETTER.replace('{% include "footer" %}', FOOTER))
    source, _ = tags.restore(mjml.mjml2html(protected.text, disable_comments=False), protected)
    template = jinja2.Environment(autoescape=True).from_string(source)
    return template.render


def _naive_pipeline() -> Callable[[dict[str, Any]], str]:
    """The design not taken: personalise the MJML, then MJML, inlining and text per contact."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(autoescape=True)
    template = env.from_string(NEWSLETTER.replace('{% include "footer" %}', FOOTER))
    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)

    def render(contact: dict[str, Any]) -> str:
        html = inliner.inline(mjml.mjml2html(template.render(contact)))
        return html + plaintext.html_to_text(html)

    return render


def _rate(render: Callable[[dict[str, Any]], object], people: list[dict[str, Any]]) -> float:
    render(people[0])  # warm up
    started = time.perf_counter()
    for person in people:
        render(person)
    return len(people) / (time.perf_counter() - started)


def run(quick: bool) -> list[Record]:
    count = 300 if quick else 5_000
    people = contacts(count)
    started = time.perf_counter()
    renderer = compile_email(SUBJECT, NEWSLETTER, "mjml", snippets={"footer": FOOTER})
    compile_ms = (time.perf_counter() - started) * 1000
    ours = _rate(renderer.render, people)
    plain = _rate(_plain_jinja(), people)
    naive = _rate(_naive_pipeline(), people[: max(count // 20, 20)])
    sample = renderer.render(people[0])
    per_message_us = 1e6 / ours
    return [
        Record(
            NAME,
            "renders (subject, HTML with CSS inlined, text) per second, one core",
            ours,
            "renders/s",
            "plain Jinja2, unsandboxed, HTML only, no inlining",
            ours / plain,
            f"≥ {TARGET_RENDERS:,} renders/s",
            ours >= TARGET_RENDERS,
        ),
        Record(NAME, "plain Jinja2 reference", plain, "renders/s"),
        Record(NAME, "cost of one render", per_message_us, "µs"),
        Record(
            NAME,
            "MJML + inlining + text per contact (design not taken)",
            naive,
            "renders/s",
            "compile once, render per contact (ours)",
            naive / ours,
        ),
        Record(NAME, "compile once (MJML, inline, text, sandbox)", compile_ms, "ms"),
        Record(NAME, "rendered HTML size", len(sample.html), "characters"),
    ]
