"""The market's own HTTP/1.1 client: answers in order, kept-alive connections, odd servers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs

import pytest

from clarion.simulate.fetcher import Fetch, Fetcher


class _Site(BaseHTTPRequestHandler):
    """A real HTTP/1.1 server on loopback: a pixel, a redirect, a chunked page, a closer."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[tuple[str, str, str, int]]] = []  # (method, path, user agent, client port)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _note(self) -> None:
        agent = self.headers.get("User-Agent", "")
        _Site.seen.append((self.command, self.path, agent, self.client_address[1]))

    def _answer(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._note()
        if self.path.startswith("/t/o/"):
            self._answer(200, b"GIF89a", Content_Type="image/gif")
        elif self.path.startswith("/t/c/"):
            self._answer(302, b"", Location="https://shop.example/product")
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        elif self.path == "/close":
            self._answer(200, b"bye", Connection="close")
            self.close_connection = True
        else:
            self._answer(404, b"no such page")

    def do_POST(self) -> None:
        self._note()
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        if self.headers.get("Content-Type") == "application/json":
            seen = {"auth": self.headers.get("Authorization"), "got": json.loads(body)}
            self._answer(200, json.dumps(seen).encode(), Content_Type="application/json")
            return
        form = parse_qs(body)
        self._answer(200, repr(sorted(form.items())).encode())


class _ImpatientSite(_Site):
    """Closes a kept-alive connection after 0.2 s without a request."""

    timeout = 0.2


def _serve(handler: type[_Site]) -> Iterator[str]:
    _Site.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def site() -> Iterator[str]:
    yield from _serve(_Site)


@pytest.fixture
def impatient_site() -> Iterator[str]:
    yield from _serve(_ImpatientSite)


def test_answers_come_back_in_the_order_asked_over_few_connections(site: str) -> None:
    fetcher = Fetcher(site, at_once=4)
    try:
        asked = [Fetch(f"/t/o/{i}.gif", "Mail/1") for i in range(20)] + [
            Fetch("/t/c/abc", "Mail/1"),
            Fetch("/nowhere", "Mail/1"),
        ]
        first = fetcher.fetch(asked)
        again = fetcher.fetch([Fetch("/t/o/x.gif", "Proxy/2")])
    finally:
        fetcher.close()
    assert [a.status_code for a in first] == [200] * 20 + [302, 404]
    assert first[0].body == b"GIF89a"
    assert again[0].status_code == 200
    ports = {port for *_, port in _Site.seen}
    assert len(ports) <= 4  # kept alive and reused, never more than at_once
    assert _Site.seen[-1][2] == "Proxy/2"


def test_a_one_click_unsubscribe_is_a_form_post(site: str) -> None:
    fetcher = Fetcher(site, at_once=2)
    try:
        (answer,) = fetcher.fetch([Fetch("/u/token", "Mail/1", {"List-Unsubscribe": "One-Click"})])
    finally:
        fetcher.close()
    assert answer.status_code == 200
    assert answer.body == b"[('List-Unsubscribe', ['One-Click'])]"
    assert _Site.seen == [("POST", "/u/token", "Mail/1", _Site.seen[0][3])]


def test_events_and_orders_are_json_posts_with_a_bearer_key(site: str) -> None:
    fetcher = Fetcher(site, at_once=2)
    batch = {"batch": [{"type": "page_view", "url": "https://shop.example/é"}]}
    try:
        answers = fetcher.fetch(
            [
                Fetch("/v1/events", "Browser/1", json=batch, bearer="wk_123"),
                Fetch("/v1/conversions", "Browser/1", json={"order_id": "o1"}, bearer="sk_9"),
            ]
        )
    finally:
        fetcher.close()
    assert [a.json() for a in answers] == [
        {"auth": "Bearer wk_123", "got": batch},
        {"auth": "Bearer sk_9", "got": {"order_id": "o1"}},
    ]


def test_chunked_answers_and_closed_connections_are_read_right(site: str) -> None:
    fetcher = Fetcher(site, at_once=1)
    try:
        answers = fetcher.fetch(
            [Fetch("/chunked", "a"), Fetch("/close", "a"), Fetch("/t/o/1.gif", "a")]
        )
    finally:
        fetcher.close()
    assert [(a.status_code, a.body) for a in answers] == [
        (200, b"hello world"),
        (200, b"bye"),
        (200, b"GIF89a"),
    ]
    # the server closed the second connection, so the third request needed a new one
    assert _Site.seen[1][3] != _Site.seen[2][3]


def test_a_connection_the_server_closed_while_idle_is_replaced_once(
    impatient_site: str,
) -> None:
    fetcher = Fetcher(impatient_site, at_once=1)
    try:
        (first,) = fetcher.fetch([Fetch("/t/o/1.gif", "a")])
        time.sleep(0.6)  # the server has closed the kept-alive connection by now
        (second,) = fetcher.fetch([Fetch("/t/o/2.gif", "a")])
    finally:
        fetcher.close()
    assert (first.status_code, second.status_code) == (200, 200)
    assert [path for _, path, *_ in _Site.seen] == ["/t/o/1.gif", "/t/o/2.gif"]


def test_only_plain_http_with_a_port_is_accepted() -> None:
    with pytest.raises(ValueError, match="plain http"):
        Fetcher("https://127.0.0.1:443", at_once=1)
