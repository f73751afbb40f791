"""The collector over real HTTP: batches, duplicates, bad events, hostile input, identify."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from clarion.api.app import create_app
from clarion.core.clock import SimulatedClock
from clarion.instance import Instance
from clarion.tracking.identity import stitched_events
from clarion.tracking.intake import email_pseudonym

NOW = "2027-02-01T09:00:00Z"  # the clock fixture's start
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture
def tracker(instance: Instance, write_key: str) -> Any:
    with TestClient(create_app(instance)) as client:
        client.headers.update({"Authorization": f"Bearer {write_key}", "User-Agent": CHROME})
        yield client


def page_view(i: int, clock: SimulatedClock, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"ev-{i}",
        "type": "page_view",
        "ts": clock.now().isoformat(),
        "anonymous_id": "anon-1",
        "url": "https://shop.example/pricing?utm_source=newsletter&utm_medium=email",
        "referrer": "https://www.google.co.uk/",
        **extra,
    }


def stored(instance: Instance) -> pd.DataFrame:
    assert instance.events is not None
    return instance.events.table("events").execute()


def test_a_batch_is_stored_once_even_when_replayed(
    tracker: TestClient, instance: Instance, clock: SimulatedClock
) -> None:
    batch = {"batch": [page_view(i, clock) for i in range(3)]}
    first = tracker.post("/v1/events", json=batch).json()
    again = tracker.post("/v1/events", json=batch).json()
    assert first == {"accepted": 3, "duplicates": 0, "rejected": []}
    assert again == {"accepted": 0, "duplicates": 3, "rejected": []}
    rows = stored(instance)
    assert sorted(rows.event_id) == ["ev-0", "ev-1", "ev-2"]
    row = rows.iloc[0]
    assert (row.utm_source, row.utm_medium) == ("newsletter", "email")
    assert (row.referrer_kind, row.referrer_domain) == ("email", "google.co.uk")
    assert (row.device, bool(row.is_machine)) == ("desktop", False)


def test_duplicates_inside_one_batch_count_once(tracker: TestClient, clock: SimulatedClock) -> None:
    event = page_view(1, clock)
    assert tracker.post("/v1/events", json={"batch": [event, event]}).json()["duplicates"] == 1


def test_three_bad_events_out_of_a_hundred(
    tracker: TestClient, instance: Instance, clock: SimulatedClock
) -> None:
    batch = [page_view(i, clock) for i in range(100)]
    batch[5] = {**batch[5], "type": ""}
    batch[40] = {**batch[40], "ts": "yesterday"}
    del batch[77]["anonymous_id"]
    result = tracker.post("/v1/events", json={"batch": batch}).json()
    assert result["accepted"] == 97
    assert [(r["index"], r["field"]) for r in result["rejected"]] == [
        (5, "type"),
        (40, "ts"),
        (77, "contact_id"),
    ]
    assert "not an ISO 8601 time" in result["rejected"][1]["problem"]
    assert len(stored(instance)) == 97


@pytest.mark.parametrize(
    ("event", "field", "problem"),
    [
        ({"type": "x", "ts": "2027-02-01T09:00:00", "anonymous_id": "a"}, "ts", "time zone"),
        ({"type": "x", "ts": 1e30, "anonymous_id": "a"}, "ts", "out of range"),
        ({"type": "x", "ts": "1999-01-01T00:00:00Z", "anonymous_id": "a"}, "ts", "before"),
        ({"type": "x", "ts": NOW, "anonymous_id": "a", "revenue": 5}, "currency", "required"),
        (
            {"type": "x", "ts": NOW, "anonymous_id": "a", "revenue": -1, "currency": "EUR"},
            "revenue",
            "",
        ),
        ({"type": "x", "ts": NOW, "anonymous_id": "a", "colour": "red"}, "colour", "unknown field"),
        ({"type": "x", "ts": NOW, "anonymous_id": "a" * 500}, "anonymous_id", "longer than"),
        ({"type": "x", "ts": NOW, "anonymous_id": "a\x00b"}, "anonymous_id", "control"),
        ({"type": "x", "ts": NOW, "email": "not-an-email"}, "email", "not an email"),
        ({"type": "x", "ts": NOW, "anonymous_id": "a", "properties": [1]}, "properties", "object"),
        (
            {"type": "x", "ts": NOW, "anonymous_id": "a", "properties": {"k": "v" * 9000}},
            "properties",
            "larger",
        ),
        ("just a string", "*", "expected an object"),
    ],
)
def test_each_bad_event_is_explained(
    tracker: TestClient, event: Any, field: str, problem: str
) -> None:
    result = tracker.post("/v1/events", json={"batch": [event]}).json()
    assert result["accepted"] == 0
    [rejected] = result["rejected"]
    assert rejected["field"] == field
    assert problem in rejected["problem"]


def test_timestamps_far_in_the_future_are_clamped_and_flagged(
    tracker: TestClient, instance: Instance, clock: SimulatedClock
) -> None:
    future = (clock.now() + timedelta(days=30)).isoformat()
    tracker.post("/v1/events", json={"batch": [{**page_view(1, clock), "ts": future}]})
    row = stored(instance).iloc[0]
    assert row.ts.to_pydatetime() == clock.now()
    assert "clarion_ts_clamped_from" in row.properties


def test_hostile_strings_are_only_data(
    tracker: TestClient, instance: Instance, clock: SimulatedClock
) -> None:
    hostile = "'); DROP TABLE events;-- <script>alert(document.cookie)</script> {{7*7}}"
    event = {**page_view(1, clock), "type": "signup", "url": hostile, "properties": {"x": hostile}}
    assert tracker.post("/v1/events", json={"batch": [event]}).json()["accepted"] == 1
    row = stored(instance).iloc[0]
    assert row.url == hostile
    assert hostile.replace('"', '\\"') in row.properties or hostile in row.properties


def test_an_email_only_event_keeps_no_plaintext_address(
    tracker: TestClient, instance: Instance, clock: SimulatedClock
) -> None:
    event = {"type": "form_submit", "ts": clock.now().isoformat(), "email": "Ana@Example.com "}
    event["email"] = event["email"].strip()
    assert tracker.post("/v1/events", json={"batch": [event]}).json()["accepted"] == 1
    row = stored(instance).iloc[0]
    assert row.anonymous_id == email_pseudonym("ana@example.com")
    assert "example.com" not in row.to_json().lower()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"batch": [', 400, "malformed_json"),
        (b'{"batch": "nope"}', 422, "invalid_input"),
        (b'{"batch": [' + b",".join([b"{}"] * 501) + b"]}", 413, "too_large"),
        (b'{"batch": ["' + b"x" * 1_100_000 + b'"]}', 413, "too_large"),
    ],
)
def test_malformed_and_oversized_bodies(
    tracker: TestClient, body: bytes, status: int, code: str
) -> None:
    response = tracker.post(
        "/v1/events", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_malformed_json_says_where(tracker: TestClient) -> None:
    response = tracker.post("/v1/events", content=b'{"batch": [\n  {"type": }]}')
    details = response.json()["error"]["details"]
    assert (details["line"], details["column"]) == (2, 12)


def test_only_a_live_write_key_may_write(
    tracker: TestClient, secret_key: str, clock: SimulatedClock
) -> None:
    batch = {"batch": [page_view(1, clock)]}
    for header in ("Bearer clr_wk_unknown", f"Bearer {secret_key}", ""):
        response = tracker.post("/v1/events", json=batch, headers={"Authorization": header})
        assert response.status_code == 401, header


def test_a_beacon_carries_its_write_key_in_a_text_body(
    tracker: TestClient, write_key: str, clock: SimulatedClock
) -> None:
    body = json.dumps({"batch": [page_view(9, clock)], "write_key": write_key})
    response = tracker.post(
        "/v1/events",
        content=body,
        headers={"Authorization": "", "content-type": "text/plain;charset=UTF-8"},
    )
    assert response.json()["accepted"] == 1


def test_web_pages_on_other_origins_may_post(tracker: TestClient) -> None:
    preflight = tracker.options(
        "/v1/events",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"


def test_identify_stitches_earlier_anonymous_events(
    tracker: TestClient, instance: Instance, clock: SimulatedClock, workspace: Any
) -> None:
    tracker.post("/v1/events", json={"batch": [page_view(i, clock) for i in range(2)]})
    linked = tracker.post("/v1/identify", json={"anonymous_id": "anon-1", "contact_id": "ct_42"})
    assert linked.json() == {"linked": True}
    assert instance.events is not None
    rows = stitched_events(instance.events, workspace.id).execute()
    assert list(rows.contact_id) == ["ct_42", "ct_42"]
    bad = tracker.post("/v1/identify", json={"anonymous_id": "anon-1"})
    assert bad.status_code == 422


def test_duplicates_are_caught_after_a_restart(
    instance: Instance, write_key: str, clock: SimulatedClock
) -> None:
    batch = {"batch": [page_view(i, clock) for i in range(5)]}
    headers = {"Authorization": f"Bearer {write_key}"}
    with TestClient(create_app(instance)) as client:
        assert client.post("/v1/events", json=batch, headers=headers).json()["accepted"] == 5
    assert instance.events is not None
    instance.events.close()
    instance.events = None
    instance.open_events()
    clock.advance(timedelta(hours=3))
    with TestClient(create_app(instance)) as client:
        again = client.post("/v1/events", json=batch, headers=headers).json()
    assert again == {"accepted": 0, "duplicates": 5, "rejected": []}
