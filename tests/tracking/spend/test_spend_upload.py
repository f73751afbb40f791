"""POST /v1/spend: a platform's export uploaded over HTTP, checked row by row like a file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from clarion.core.clock import SimulatedClock
from clarion.instance import Instance
from clarion.tracking.spend.current import current_spend

HEADER = "date,campaign,channel,ad set,cost,currency,clicks,conversions"


@pytest.fixture
def now(clock: SimulatedClock) -> SimulatedClock:
    clock.set(datetime(2027, 3, 10, 8, tzinfo=UTC))
    return clock


def _upload(client: TestClient, body: str, name: str = "search-2027-03-09.csv") -> dict:
    answer = client.post(
        "/v1/spend",
        params={"name": name, "layout": "generic"},
        content=body.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _spend(instance: Instance, workspace_id: str) -> list[dict]:
    assert instance.events is not None
    table = current_spend(instance.events, workspace_id).to_pyarrow()
    return sorted(table.to_pylist(), key=lambda row: row["ad_set"])


def test_good_rows_are_stored_and_bad_ones_named(
    client: TestClient, instance: Instance, workspace, now: SimulatedClock
) -> None:
    body = "\n".join(
        [
            HEADER,
            "2027-03-09,spring,search,brand,120.50,EUR,40,3",
            "2027-03-09,spring,search,generic,not money,EUR,10,0",
            "2027-03-09,spring,search,long-tail,80.00,EUR,25,1",
        ]
    )
    report = _upload(client, body)
    assert (report["rows_imported"], report["rows_rejected"]) == (2, 1)
    assert report["problems"][0]["row"] == 3
    assert report["problems"][0]["field"] == "cost"
    assert "errors_path" not in report  # a file on the server is of no use to the caller
    rows = _spend(instance, workspace.id)
    assert [(r["ad_set"], r["cost"], r["conversions"]) for r in rows] == [
        ("brand", 120.5, 3),
        ("long-tail", 80.0, 1),
    ]


def test_uploading_a_day_again_replaces_it(
    client: TestClient, instance: Instance, workspace, now: SimulatedClock
) -> None:
    _upload(client, f"{HEADER}\n2027-03-09,spring,search,brand,120.50,EUR,40,3")
    now.set(datetime(2027, 3, 10, 9, tzinfo=UTC))
    _upload(client, f"{HEADER}\n2027-03-09,spring,search,brand,130.00,EUR,44,4")
    assert [(r["cost"], r["conversions"]) for r in _spend(instance, workspace.id)] == [(130.0, 4)]


def test_hostile_cells_are_stored_as_text(
    client: TestClient, instance: Instance, workspace, now: SimulatedClock
) -> None:
    hostile = "x'); DROP TABLE ad_spend; --<script>alert(1)</script>"
    _upload(client, f'{HEADER}\n2027-03-09,spring,search,"{hostile}",10,EUR,1,0')
    assert [r["ad_set"] for r in _spend(instance, workspace.id)] == [hostile]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"name": "../../etc/passwd", "layout": "generic"}, "name"),
        ({"name": "a.csv", "layout": "lotus123"}, "layout"),
        ({"name": "a.csv", "currency": "euro"}, "currency"),
    ],
)
def test_bad_parameters_are_refused_by_name(
    client: TestClient, params: dict, field: str, now: SimulatedClock
) -> None:
    answer = client.post("/v1/spend", params=params, content=f"{HEADER}\n".encode())
    assert answer.status_code in (400, 422)
    assert field in answer.text


def test_a_body_that_is_no_spend_export_is_refused_whole(
    client: TestClient, instance: Instance, workspace, now: SimulatedClock
) -> None:
    answer = client.post(
        "/v1/spend", params={"name": "notes.csv"}, content=b"just some notes\nnothing else\n"
    )
    assert answer.status_code == 422
    assert _spend(instance, workspace.id) == []


def test_a_write_key_cannot_upload_spend(
    client: TestClient, write_key: str, now: SimulatedClock
) -> None:
    answer = client.post(
        "/v1/spend",
        params={"name": "a.csv"},
        content=f"{HEADER}\n2027-03-09,spring,search,brand,1,EUR,1,0".encode(),
        headers={"Authorization": f"Bearer {write_key}"},
    )
    assert answer.status_code in (401, 403)
