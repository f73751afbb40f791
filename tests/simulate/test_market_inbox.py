"""The market's mail server: bad addresses refused at RCPT, letters read as a reader sees them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.message import EmailMessage
from types import SimpleNamespace

from clarion.audiences.personas import parse_persona
from clarion.delivery.mime import build_message, envelope_for
from clarion.delivery.sink import Received
from clarion.simulate.inbox import Mailboxes
from clarion.simulate.market import DEFAULT_PERSONAS
from clarion.simulate.population import GOOD, HARD_BOUNCE, SOFT_BOUNCE, generate_population

PEOPLE = generate_population(tuple(parse_persona(p) for p in DEFAULT_PERSONAS), 400, seed=5)
BASE = "http://127.0.0.1:8000"


def rcpt(boxes: Mailboxes, address: str) -> str:
    envelope = SimpleNamespace(rcpt_tos=[])
    return asyncio.run(boxes.handle_RCPT(None, None, envelope, address, []))


def test_the_population_says_who_bounces_hard_or_soft() -> None:
    boxes = Mailboxes(PEOPLE)
    kinds = {int(k): i for i, k in enumerate(PEOPLE.address.tolist())}
    assert rcpt(boxes, PEOPLE.email(kinds[GOOD])).startswith("250")
    assert rcpt(boxes, PEOPLE.email(kinds[HARD_BOUNCE])).startswith("550")
    assert rcpt(boxes, PEOPLE.email(kinds[SOFT_BOUNCE])).startswith("452")
    assert rcpt(boxes, "stranger@elsewhere.example").startswith("550")


def test_a_sent_message_is_read_for_its_subject_pixel_links_and_one_click_unsubscribe() -> None:
    boxes = Mailboxes(PEOPLE)
    to = PEOPLE.email(7)
    html = (
        "<html><body><p>Hi</p>"
        f'<a href="{BASE}/t/c/tok-one">offer</a> <a href="https://elsewhere.example/x">raw</a>'
        f'<a href="{BASE}/t/c/tok-two">docs</a>'
        f'<img src="{BASE}/t/o/pix.gif" width="1" height="1" alt=""></body></html>'
    )
    payload = build_message(
        message_id="msg-1",
        to=to,
        subject="Cut incident response time in half — spring ☀",
        text="Hi",
        html=html,
        envelope=envelope_for("Ops <spring@news.example>"),
        unsubscribe_url=f"{BASE}/u/unsub-token",
        date=datetime(2027, 3, 1, 9, tzinfo=UTC),
    )
    boxes.received.append(Received("spring@news.example", [to], payload))
    (letter,) = boxes.take()
    assert letter.person == 7
    assert letter.subject == "Cut incident response time in half — spring ☀"
    assert letter.pixel == "/t/o/pix.gif"
    assert letter.links == ("/t/c/tok-one", "/t/c/tok-two")  # only tracked links are followed
    assert letter.unsubscribe == "/u/unsub-token"
    assert boxes.take() == []  # taken once


def test_a_message_of_another_shape_is_read_by_the_standard_parser() -> None:
    boxes = Mailboxes(PEOPLE)
    message = EmailMessage()
    message["Subject"] = "Plain and simple"
    message["To"] = PEOPLE.email(3)
    message.set_content("text")
    message.add_alternative(f'<a href="{BASE}/t/c/only">x</a>', subtype="html", cte="8bit")
    boxes.received.append(Received("x@y.example", [PEOPLE.email(3)], message.as_bytes()))
    (letter,) = boxes.take()
    assert letter.subject == "Plain and simple"
    assert letter.links == ("/t/c/only",)
    assert letter.pixel is None and letter.unsubscribe is None
