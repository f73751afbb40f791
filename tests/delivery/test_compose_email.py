"""Building one email: hostile subjects, links that must and must not be rewritten, the pixel."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.header import decode_header, make_header

from clarion.delivery.links import MAX_LINKS, add_pixel, collect_links, rewrite
from clarion.delivery.mime import build_message, envelope_for

NOW = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)


def _message(subject: str, html: str = "<p>hi</p>", text: str = "hi") -> email.message.Message:
    raw = build_message(
        message_id="msg_abc",
        to="jane@example.org",
        subject=subject,
        text=text,
        html=html,
        envelope=envelope_for("Équipe Printemps <news@mail.example.com>", reply_to="help@x.org"),
        unsubscribe_url="https://go.example.com/u/tok",
        date=NOW,
    )
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line ends only
    return email.message_from_bytes(raw)


def test_a_line_break_in_a_subject_cannot_add_headers() -> None:
    message = _message("Hello Eve\r\nBcc: everyone@evil.example\r\n\r\n<script>")
    assert message["Bcc"] is None
    assert str(make_header(decode_header(message["Subject"]))) == (
        "Hello Eve Bcc: everyone@evil.example <script>"
    )


def test_non_ascii_names_and_subjects_are_encoded_and_read_back() -> None:
    message = _message("Grüße, Zoë — 春")
    assert str(make_header(decode_header(message["Subject"]))) == "Grüße, Zoë — 春"
    assert "Équipe Printemps" in str(make_header(decode_header(message["From"])))
    assert message["Reply-To"] == "<help@x.org>"
    assert message["Message-ID"] == "<msg_abc@mail.example.com>"


def test_only_http_links_are_rewritten_and_each_destination_once() -> None:
    html = (
        '<a href="https://a.example/x?p=1&amp;q=2">one</a>'
        "<a href='https://a.example/x?p=1&amp;q=2'>again</a>"
        '<a href="javascript:alert(1)">js</a><a href="mailto:x@y.org">mail</a>'
        '<a title="t" href="http://b.example/">b</a>'
    )
    links = collect_links(html)
    assert links == ["https://a.example/x?p=1&q=2", "http://b.example/"]
    new_html, new_text = rewrite(
        html, "see https://a.example/x?p=1&q=2 and http://c.example/", links, ["C0", "C1"]
    )
    assert new_html.count('href="C0"') == 1 and "href='C0'" in new_html
    assert 'href="javascript:alert(1)"' in new_html and 'href="mailto:x@y.org"' in new_html
    assert new_text == "see C0 and http://c.example/"


def test_links_are_capped() -> None:
    html = "".join(f'<a href="https://x.example/{i}">{i}</a>' for i in range(MAX_LINKS + 50))
    assert len(collect_links(html)) == MAX_LINKS


def test_the_pixel_goes_before_the_body_ends() -> None:
    assert add_pixel("<html><BODY>x</BODY></html>", "P").startswith('<html><BODY>x<img src="P"')
    assert add_pixel("<p>bare</p>", "P").startswith('<p>bare</p><img src="P"')
