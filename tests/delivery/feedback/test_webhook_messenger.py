"""The signed-webhook Messenger against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from clarion.core.clock import SimulatedClock
from clarion.core.errors import InvalidInput
from clarion.delivery.messenger import DeliveryResult, Messenger, Outgoing
from clarion.delivery.webhook_messenger import WebhookMessenger, signature
from clarion.delivery.webhook_plugins import messenger_for
from clarion.settings import Settings, WebhookChannelSettings

SECRET = b"channel-secret"


def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2027, 2, 1, 9, 0, tzinfo=UTC))


# (status, headers, body, delay seconds) or a callable building that from the request JSON
Answer = tuple[int, dict[str, str], bytes, float]


@dataclass
class Provider:
    """A provider's webhook endpoint that checks signatures and answers as scripted."""

    answers: list[Answer | Callable[[dict[str, Any]], Answer]] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def answer(self, request: dict[str, Any]) -> Answer:
        if not self.answers:
            return accept_all(request)
        scripted = self.answers.pop(0)
        return scripted(request) if callable(scripted) else scripted


def accept_all(request: dict[str, Any]) -> Answer:
    results = [
        {"id": m["id"], "status": "accepted", "provider_id": f"sm-{m['id']}"}
        for m in request["messages"]
    ]
    return 200, {}, json.dumps({"results": results}).encode(), 0.0


@pytest.fixture
def provider() -> Iterator[Provider]:
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append((headers, body))
            expected = signature(SECRET, int(headers["x-clarion-timestamp"]), body)
            if not hmac.compare_digest(expected, headers["x-clarion-signature"]):
                status, extra, answer, delay = 401, {}, b"bad signature", 0.0
            else:
                status, extra, answer, delay = state.answer(json.loads(body))
            time.sleep(delay)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    yield state
    server.shutdown()
    server.server_close()


MESSAGES = [
    Outgoing("msg_1", "+4915112345678", b"Your code is 1234"),
    Outgoing("msg_2", "+4915187654321", "Grüße 🎉".encode()),
    Outgoing("msg_3", "device-token-abc", b"\xff\xfe binary push"),
]


def send(
    provider: Provider, messages: list[Outgoing] = MESSAGES, **options: Any
) -> tuple[list[DeliveryResult], list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def run() -> list[DeliveryResult]:
        messenger = WebhookMessenger(
            "sms",
            provider.url,
            SECRET,
            clock=clock(),
            sleep=sleep,
            **{"timeout": 2.0, **options},
        )
        try:
            return await messenger.send_batch(messages)
        finally:
            await messenger.close()

    return asyncio.run(run()), slept


def test_a_batch_is_posted_signed_and_each_result_mapped(provider: Provider) -> None:
    def mixed(request: dict[str, Any]) -> Answer:
        results = [
            {"id": "msg_1", "status": "accepted", "provider_id": "SM1"},
            {"id": "msg_2", "status": "rejected", "detail": "invalid number"},
            {"id": "msg_3", "status": "failed", "detail": "device offline"},
        ]
        return 200, {}, json.dumps({"results": results}).encode(), 0.0

    provider.answers = [mixed]
    results, slept = send(provider)
    assert [(r.message_id, r.accepted, r.permanent) for r in results] == [
        ("msg_1", True, False),
        ("msg_2", False, True),
        ("msg_3", False, False),
    ]
    assert results[0].provider_id == "SM1"
    assert results[1].detail == "invalid number"
    [(headers, body)] = provider.requests
    sent = json.loads(body)
    assert sent["channel"] == "sms"
    assert sent["messages"][1] == {
        "id": "msg_2",
        "to": "+4915187654321",
        "payload": "Grüße 🎉",
        "encoding": "utf-8",
    }
    assert sent["messages"][2]["encoding"] == "base64"
    assert headers["idempotency-key"]
    assert slept == []


def test_transient_failures_are_retried_with_backoff_under_one_idempotency_key(
    provider: Provider,
) -> None:
    provider.answers = [(503, {}, b"busy", 0.0), (502, {}, b"", 0.0)]
    results, slept = send(provider)
    assert all(r.accepted for r in results)
    assert slept == [0.5, 1.0]
    keys = {headers["idempotency-key"] for headers, _ in provider.requests}
    assert len(provider.requests) == 3 and len(keys) == 1


def test_retry_after_is_honoured_but_capped(provider: Provider) -> None:
    provider.answers = [
        (429, {"Retry-After": "7"}, b"", 0.0),
        (429, {"Retry-After": "9999"}, b"", 0.0),
    ]
    results, slept = send(provider, max_backoff=60.0)
    assert all(r.accepted for r in results)
    assert slept == [7.0, 60.0]


def test_giving_up_after_the_last_attempt_reports_no_success(provider: Provider) -> None:
    provider.answers = [(500, {}, b"", 0.0)] * 4
    results, slept = send(provider, max_attempts=4)
    assert [r.accepted for r in results] == [False, False, False]
    assert not any(r.permanent for r in results)
    assert "500" in results[0].detail
    assert slept == [0.5, 1.0, 2.0]


def test_a_refused_batch_is_permanent_and_not_retried(provider: Provider) -> None:
    provider.answers = [(422, {}, b"bad batch", 0.0)]
    results, slept = send(provider)
    assert all(not r.accepted and r.permanent for r in results)
    assert len(provider.requests) == 1 and slept == []


def test_a_wrong_secret_is_a_configuration_problem_not_a_dead_message(provider: Provider) -> None:
    async def run() -> list[DeliveryResult]:
        messenger = WebhookMessenger("sms", provider.url, b"wrong", clock=clock())
        try:
            return await messenger.send_batch(MESSAGES[:1])
        finally:
            await messenger.close()

    [result] = asyncio.run(run())
    assert (result.accepted, result.permanent) == (False, False)
    assert "secret" in result.detail


@pytest.mark.parametrize(
    "answer",
    [
        b"not json",
        b'{"results": "nope"}',
        b'{"results": [{"id": "msg_other", "status": "accepted"}]}',
        b"[]",
    ],
)
def test_an_unreadable_or_silent_answer_is_never_taken_as_success(
    provider: Provider, answer: bytes
) -> None:
    provider.answers = [(200, {}, answer, 0.0)]
    results, _ = send(provider)
    assert not any(r.accepted for r in results)
    assert not any(r.permanent for r in results)


def test_a_timeout_is_retried_and_then_reported_as_not_sent(provider: Provider) -> None:
    provider.answers = [(200, {}, b"{}", 1.5)] * 2
    results, slept = send(provider, timeout=0.3, max_attempts=2)
    assert not any(r.accepted for r in results)
    assert "timed out" in results[0].detail
    assert slept == [0.5]


def test_an_unreachable_provider_is_retried_then_reported(provider: Provider) -> None:
    closed = Provider(url="http://127.0.0.1:9/send")
    results, slept = send(closed, max_attempts=3)
    assert not any(r.accepted for r in results)
    assert "could not reach" in results[0].detail
    assert slept == [0.5, 1.0]


def test_an_empty_batch_posts_nothing(provider: Provider) -> None:
    results, _ = send(provider, messages=[])
    assert results == [] and provider.requests == []


def test_channels_come_from_settings_or_installed_plugins(provider: Provider) -> None:
    settings = Settings(
        webhook_channels={"sms": WebhookChannelSettings(url=provider.url, secret=SecretStr("s"))}
    )
    messenger: Messenger = messenger_for("sms", settings, clock=clock())
    assert isinstance(messenger, WebhookMessenger) and messenger.channel == "sms"
    asyncio.run(messenger.close())
    with pytest.raises(InvalidInput, match="no messenger for channel 'carrier-pigeon'"):
        messenger_for("carrier-pigeon", settings, clock=clock())


def test_the_signature_covers_timestamp_and_body() -> None:
    at = clock()
    ts = int(at.now().timestamp())
    base = signature(SECRET, ts, b"{}")
    assert base.startswith("v1=")
    assert base != signature(SECRET, ts + 1, b"{}")
    assert base != signature(SECRET, ts, b"{ }")
    expected = hmac.new(SECRET, f"{ts}.{{}}".encode(), hashlib.sha256).hexdigest()
    assert base == f"v1={expected}"
