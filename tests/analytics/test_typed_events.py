"""Typed events at intake: lifecycle changes and survey responses carry checked properties."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clarion.audiences.contracts import LIFECYCLE_STAGES
from clarion.tracking.intake import Rejected, to_row
from clarion.tracking.vocabulary import PIPELINE_STAGES

NOW = datetime(2027, 3, 2, 12, tzinfo=UTC)


def _row(type_: str, properties: Any) -> dict[str, Any]:
    event = {"type": type_, "ts": "2027-03-02T10:00:00Z", "contact_id": "ct_1"}
    if properties is not None:
        event["properties"] = properties
    return to_row(event, workspace_id="ws", received_at=NOW, new_id=lambda: "e1")


def test_every_contact_stage_is_a_pipeline_stage() -> None:
    assert set(LIFECYCLE_STAGES) <= set(PIPELINE_STAGES)
    assert "lost" in PIPELINE_STAGES


@pytest.mark.parametrize(
    ("type_", "properties"),
    [
        ("lifecycle_change", {"stage": "mql"}),
        ("lifecycle_change", {"stage": "opportunity", "amount": 1200}),
        ("lifecycle_change", {"stage": "lost", "amount": 0.0, "reason": "budget"}),
        ("survey_response", {"score": 5}),
        ("survey_response", {"score": 1, "scale": 10, "survey": "onboarding"}),
        ("page_view", None),  # untyped events carry what they like
    ],
)
def test_good_typed_events_are_accepted(type_: str, properties: Any) -> None:
    assert _row(type_, properties)["type"] == type_


@pytest.mark.parametrize(
    ("type_", "properties", "field"),
    [
        ("lifecycle_change", None, "properties.*"),
        ("lifecycle_change", {}, "properties.stage"),
        ("lifecycle_change", {"stage": "<script>alert(1)</script>"}, "properties.stage"),
        ("lifecycle_change", {"stage": "MQL"}, "properties.stage"),
        ("lifecycle_change", {"stage": "customer", "amount": -5}, "properties.amount"),
        ("lifecycle_change", {"stage": "customer", "amount": "1e400"}, "properties.amount"),
        ("lifecycle_change", {"stage": "customer", "amount": True}, "properties.amount"),
        ("survey_response", {"scale": 5}, "properties.score"),
        ("survey_response", {"score": 6}, "properties.score"),
        ("survey_response", {"score": 0}, "properties.score"),
        ("survey_response", {"score": 3.5}, "properties.score"),
        ("survey_response", {"score": "5"}, "properties.score"),
        ("survey_response", {"score": 2, "scale": 100}, "properties.scale"),
        ("survey_response", {"score": 2, "scale": "5; DROP TABLE events"}, "properties.scale"),
    ],
)
def test_bad_typed_events_name_the_property(type_: str, properties: Any, field: str) -> None:
    with pytest.raises(Rejected) as caught:
        _row(type_, properties)
    assert caught.value.field == field


def test_the_collector_keeps_good_events_and_names_the_bad_one(
    client: TestClient, write_key: str
) -> None:
    batch = [
        {
            "type": "survey_response",
            "ts": "2027-02-01T08:00:00Z",
            "contact_id": "ct_1",
            "properties": {"score": 4},
        },
        {
            "type": "survey_response",
            "ts": "2027-02-01T08:00:00Z",
            "contact_id": "ct_2",
            "properties": {"score": 11},
        },
    ]
    response = client.post(
        "/v1/events",
        json={"batch": batch},
        headers={"Authorization": f"Bearer {write_key}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] == 1
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, "properties.score")]
