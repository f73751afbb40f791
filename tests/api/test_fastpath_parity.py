"""The fast path answers the pixel and the redirect exactly as the documented routes do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from clarion.api.app import create_app
from clarion.api.fastpath import TrackingFastPath
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.instance import Instance
from clarion.tracking import service as tracking
from clarion.tracking.contracts import TrackedMessage, TrackingUrls

HEADERS_COMPARED = ("content-type", "cache-control", "pragma", "location", "content-length")


@pytest.fixture
def urls(instance: Instance, workspace: Workspace, clock: SimulatedClock) -> TrackingUrls:
    message = TrackedMessage(
        message_id="msg_parity",
        workspace_id=workspace.id,
        campaign_id="cmp_spring",
        contact_id="ct_ana",
        channel="email",
        variant=None,
        sent_at=clock.now(),
        links=("https://shop.example/pricing?plan=pro&x=ü#top", "https://shop.example/a b"),
        utm={"utm_source": "clarion", "utm_campaign": "spring sale"},
    )
    key = instance.settings.secrets.signing_key.get_secret_value().encode()
    return tracking.register_message(instance.store, message, key=key, base_url="http://t")


SKIP = (b"x-test-route", b"documented")


@pytest.fixture
def web(instance: Instance) -> Iterator[TestClient]:
    """The fast path in front of the app, as `clarion serve` runs it; a request with the SKIP
    header goes to the app's documented routes instead (same app, same collector, one loop)."""
    app = create_app(instance)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not TrackingFastPath]
    fast = TrackingFastPath(app, outside=app)

    async def either(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and SKIP in scope["headers"]:
            await app(scope, receive, send)
        else:
            await fast(scope, receive, send)

    with TestClient(either, follow_redirects=False) as client:
        yield client


def _answer(client: TestClient, path: str, *, fast: bool) -> tuple[int, dict[str, Any], bytes]:
    headers = {"User-Agent": "Mozilla/5.0 (iPhone)"}
    if not fast:
        headers[SKIP[0].decode()] = SKIP[1].decode()
    response = client.get(path, headers=headers)
    kept = {name: response.headers.get(name) for name in HEADERS_COMPARED}
    return response.status_code, kept, response.content


def _paths(urls: TrackingUrls) -> list[str]:
    pixel = urls.open_pixel.removeprefix("http://t")
    clicks = [c.removeprefix("http://t") for c in urls.clicks]
    forged = pixel[:-8] + ("A" if pixel[-5] != "A" else "B") + pixel[-4:]
    return [
        pixel,
        *clicks,
        forged,  # a tampered pixel token: still a GIF
        clicks[0][:-1] + ("A" if clicks[0][-1] != "A" else "B"),  # a tampered click: 404
        "/t/c/not-a-token",
        "/t/o/%3Cscript%3E.gif",
    ]


def test_every_answer_is_the_same_on_both_paths(web: TestClient, urls: TrackingUrls) -> None:
    for path in _paths(urls):
        assert _answer(web, path, fast=True) == _answer(web, path, fast=False), path


def test_paths_the_fast_path_does_not_own_fall_through(web: TestClient) -> None:
    assert web.get("/t/o/a/b.gif").status_code == 404
    assert web.get("/t/c/").status_code == 404
    assert web.head("/t/o/x.gif").status_code in (200, 405)
