"""Open pixel, click redirects and conversion postbacks, including a tampered-token suite."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from clarion.api.app import create_app
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.instance import Instance
from clarion.tracking import service as tracking
from clarion.tracking.contracts import TrackedMessage, TrackingUrls
from clarion.tracking.tables import conversion_orders
from clarion.tracking.tokens import TokenClaims, sign

IPHONE_MAIL = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
APPLE_PROXY = "Mozilla/5.0"  # Apple Mail Privacy Protection fetches with a bare agent
SCANNER = "Mozilla/5.0 (compatible; BingPreview/1.0b)"


@pytest.fixture
def signing_key(instance: Instance) -> bytes:
    return instance.settings.secrets.signing_key.get_secret_value().encode()


@pytest.fixture
def message(instance: Instance, workspace: Workspace, clock: SimulatedClock) -> TrackedMessage:
    return TrackedMessage(
        message_id="msg_1",
        workspace_id=workspace.id,
        campaign_id="cmp_spring",
        contact_id="ct_ana",
        channel="email",
        variant="short-subject",
        sent_at=clock.now(),
        links=("https://shop.example/pricing?plan=pro#top", "https://shop.example/demo"),
        utm={"utm_source": "clarion", "utm_medium": "email", "utm_campaign": "spring"},
    )


@pytest.fixture
def urls(instance: Instance, message: TrackedMessage, signing_key: bytes) -> TrackingUrls:
    return tracking.register_message(
        instance.store, message, key=signing_key, base_url="http://testserver"
    )


@pytest.fixture
def web(instance: Instance) -> Any:
    with TestClient(create_app(instance), follow_redirects=False) as client:
        yield client


def events(instance: Instance) -> pd.DataFrame:
    assert instance.events is not None
    return instance.events.table("events").execute()


def test_a_human_open_is_recorded_and_answered_with_a_gif(
    web: TestClient, instance: Instance, urls: TrackingUrls, clock: SimulatedClock
) -> None:
    clock.advance(timedelta(hours=2))
    response = web.get(urls.open_pixel, headers={"User-Agent": IPHONE_MAIL})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    assert response.content.startswith(b"GIF89a")
    assert "no-store" in response.headers["cache-control"]
    [row] = events(instance).itertuples()
    assert (row.type, row.contact_id, row.campaign_id, row.variant) == (
        "email_open",
        "ct_ana",
        "cmp_spring",
        "short-subject",
    )
    assert not row.is_machine


def test_a_proxy_open_seconds_after_delivery_is_a_machine_open(
    web: TestClient, instance: Instance, urls: TrackingUrls, clock: SimulatedClock
) -> None:
    clock.advance(timedelta(seconds=2))
    web.get(urls.open_pixel, headers={"User-Agent": APPLE_PROXY})
    [row] = events(instance).itertuples()
    assert row.is_machine
    assert "machine_reasons" in row.properties


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "",
        "a.b",
        "x" * 300,
        "' OR 1=1 --",
        "<script>alert(1)</script>",
    ],
)
def test_any_bad_open_token_still_gets_the_gif_and_records_nothing(
    web: TestClient, instance: Instance, urls: TrackingUrls, token: str
) -> None:
    response = web.get(f"/t/o/{token}.gif")
    assert response.status_code in (200, 404)  # an empty token does not even match the route
    if response.status_code == 200:
        assert response.content.startswith(b"GIF89a")
    assert events(instance).empty


def test_a_click_redirects_to_the_stored_destination_with_utm(
    web: TestClient, instance: Instance, urls: TrackingUrls, clock: SimulatedClock
) -> None:
    clock.advance(timedelta(minutes=30))
    response = web.get(urls.clicks[0], headers={"User-Agent": IPHONE_MAIL})
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert (location.netloc, location.path, location.fragment) == (
        "shop.example",
        "/pricing",
        "top",
    )
    query = parse_qs(location.query)
    assert query["plan"] == ["pro"]
    assert query["utm_campaign"] == ["spring"]
    [row] = events(instance).itertuples()
    assert (row.type, row.message_id, bool(row.is_machine)) == ("email_click", "msg_1", False)
    assert row.url == response.headers["location"]


def test_a_link_scanner_click_is_flagged(
    web: TestClient, instance: Instance, urls: TrackingUrls, clock: SimulatedClock
) -> None:
    clock.advance(timedelta(seconds=1))
    assert web.get(urls.clicks[1], headers={"User-Agent": SCANNER}).status_code == 302
    assert events(instance).iloc[0].is_machine


def _tamper(token: str) -> list[str]:
    payload, tag = token.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    return [
        f"{flipped}.{tag}",
        f"{payload}.{tag[:-1]}{'A' if tag[-1] != 'A' else 'B'}",
        f"{payload}.",
        payload,
        token + "x",
        token.upper(),
    ]


def test_tampered_click_tokens_get_a_404_page_and_never_a_redirect(
    web: TestClient,
    instance: Instance,
    urls: TrackingUrls,
    message: TrackedMessage,
    signing_key: bytes,
) -> None:
    token = urls.clicks[0].rsplit("/", 1)[1]
    forged = [
        *_tamper(token),
        sign(TokenClaims("c", "msg_1", 7), signing_key),  # a link the message does not have
        sign(TokenClaims("c", "msg_unknown", 0), signing_key),  # a message never sent
        sign(TokenClaims("o", "msg_1"), signing_key),  # an open token used as a click
        sign(TokenClaims("c", "msg_1", 0), b"another installation's key"),
    ]
    for bad in forged:
        response = web.get(f"/t/c/{bad}?url=https://evil.example")
        assert response.status_code == 404, bad
        assert "location" not in response.headers
        assert "evil" not in response.text
    assert events(instance).empty


def test_a_conversion_counts_once_per_order(
    instance: Instance, secret_key: str, urls: TrackingUrls
) -> None:
    token = urls.clicks[0].rsplit("/", 1)[1]
    body = {"order_id": "A-1001", "value": "129.90", "currency": "EUR", "click_token": token}
    with TestClient(create_app(instance)) as client:
        client.headers["Authorization"] = f"Bearer {secret_key}"
        first = client.post("/v1/conversions", json=body).json()
        again = client.post("/v1/conversions", json=body).json()
        unknown = client.post("/v1/conversions", json={**body, "click_token": "bad.token"})
        no_key = client.post("/v1/conversions", json=body, headers={"Authorization": ""})
    assert (first["accepted"], first["duplicate"]) == (True, False)
    assert (again["accepted"], again["duplicate"]) == (False, True)
    assert unknown.status_code == 422
    assert no_key.status_code == 401
    [row] = events(instance).itertuples()
    assert (row.type, row.revenue, row.currency) == ("conversion", 129.9, "EUR")
    assert (row.contact_id, row.campaign_id, row.message_id) == ("ct_ana", "cmp_spring", "msg_1")


def test_a_postback_retried_after_a_crash_still_counts_once(
    instance: Instance, secret_key: str, clock: SimulatedClock, workspace: Workspace
) -> None:
    body = {"order_id": "B-7", "value": 40, "currency": "EUR", "contact_id": "ct_bo"}
    with TestClient(create_app(instance)) as client:
        client.headers["Authorization"] = f"Bearer {secret_key}"
        assert client.post("/v1/conversions", json=body).json()["accepted"] is True
        # The server died after storing the event but before noting it in the order ledger.
        with instance.store.transaction() as conn:
            conn.execute(update(conversion_orders).values(committed_at=None))
        clock.advance(timedelta(minutes=20))
        retried = client.post("/v1/conversions", json=body).json()
    assert (retried["accepted"], retried["duplicate"]) == (False, True)
    assert len(events(instance)) == 1
