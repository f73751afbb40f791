"""A campaign's funnel, cohorts, paths and attribution, and the workspace's CLV, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from campaign_journeys import PLAN, STEPS, campaign_log, customers, person_of
from fastapi.testclient import TestClient
from journey_log import LINKS

from clarion.analytics import service
from clarion.analytics.attribution import MODELS
from clarion.analytics.funnels import FunnelStep
from clarion.auth.contracts import Workspace
from clarion.campaigns import service as campaigns
from clarion.campaigns.plan import parse_plan
from clarion.core.clock import SimulatedClock
from clarion.instance import Instance
from clarion.stores.events import EventStore


@pytest.fixture
def spring(
    instance: Instance, workspace: Workspace, clock: SimulatedClock
) -> Iterator[tuple[str, list[dict[str, Any]], set[str]]]:
    applied = campaigns.apply_plan(
        instance.store, workspace.id, parse_plan(PLAN), clock=clock, ids=instance.ids, actor="t"
    )
    assert instance.events is not None
    rows, people = campaign_log(workspace.id, applied.campaign.id)
    instance.events.append("events", rows)
    instance.events.append(
        "identities",
        [
            {"workspace_id": workspace.id, "anonymous_id": a, "contact_id": c, "source": "identify"}
            for a, c in LINKS.items()
        ],
    )
    # Someone the campaign only emailed is one of its people too.
    instance.events.append(
        "message_sends",
        [
            {
                "message_id": "msg_1",
                "workspace_id": workspace.id,
                "campaign_id": applied.campaign.id,
                "contact_id": "p1",
                "channel": "email",
                "sent_at": datetime(2027, 3, 1, 8, tzinfo=UTC),
                "status": "sent",
            }
        ],
    )
    clock.set(datetime(2027, 5, 1, tzinfo=UTC))
    yield applied.campaign.id, rows, people | {"p1"}


@pytest.fixture
def reference(
    spring: tuple[str, list[dict[str, Any]], set[str]], workspace: Workspace
) -> Iterator[EventStore]:
    """Only the campaign's people's events, in a store of their own: what scoping must equal."""
    _, rows, people = spring
    with EventStore.open("duckdb://:memory:") as store:
        store.create_schema()
        store.append("events", [r for r in rows if person_of(r) in people])
        store.append(
            "identities",
            [
                {"workspace_id": workspace.id, "anonymous_id": a, "contact_id": c, "source": "x"}
                for a, c in LINKS.items()
            ],
        )
        yield store


SINCE = datetime(2027, 3, 1, tzinfo=UTC)


def test_a_campaign_funnel_follows_the_campaign_people(
    client: TestClient, reference: EventStore, workspace: Workspace
) -> None:
    response = client.get("/v1/campaigns/spring/funnel", params={"steps": STEPS, "window": "7d"})
    assert response.status_code == 200, response.text
    body = response.json()
    steps = [
        FunnelStep("page_view", "/pricing"),
        FunnelStep("signup"),
        FunnelStep("checkout"),
        FunnelStep("conversion"),
    ]
    expected = service.funnel(reference, workspace.id, steps, timedelta(days=7), since=SINCE)
    assert [s["reached"] for s in body["steps"]] == [s.reached for s in expected.steps]
    assert [s["step"] for s in body["steps"]] == [
        "page_view ~ /pricing",
        "signup",
        "checkout",
        "conversion",
    ]
    assert body["since"] == "2027-03-01T00:00:00+00:00"
    assert body["window_seconds"] == 7 * 86400
    assert body["bottleneck"]["index"] == expected.bottleneck
    assert body["steps"][1]["reached"] > 0
    for step in body["steps"][1:]:
        if step["rate"] is not None:  # None after a step nobody reached
            assert step["low"] <= step["rate"] <= step["high"]
    everyone = client.app.state.instance.events  # type: ignore[attr-defined]
    workspace_wide = service.funnel(everyone, workspace.id, steps, timedelta(days=7))
    assert workspace_wide.steps[0].reached > body["steps"][0]["reached"] > 0


def test_paths_exits_and_cohorts_follow_the_campaign_people(
    client: TestClient, reference: EventStore, workspace: Workspace
) -> None:
    paths = client.get("/v1/campaigns/spring/paths", params={"max_touches": 3, "top": 1000})
    assert paths.status_code == 200, paths.text
    body = paths.json()
    expected = service.conversion_paths(
        reference, workspace.id, max_touches=3, top=1000, since=SINCE
    )
    assert {tuple(p["path"]): p["people"] for p in body["paths"]} == {
        p.path: p.people for p in expected
    }
    left = service.exits(reference, workspace.id, label="channel", max_touches=3, top=1000)
    assert {tuple(p["path"]): p["people"] for p in body["exits"]} == {
        p.path: p.people for p in left
    }
    assert all(p["low"] <= p["share"] <= p["high"] for p in body["paths"] + body["exits"])

    cohorts = client.get("/v1/campaigns/spring/cohorts", params={"weeks": 4}).json()
    found = service.retention(reference, workspace.id, weeks=4, since=SINCE)
    assert [c["week"] for c in cohorts["cohorts"]] == [c.week.isoformat() for c in found]
    assert [c["size"] for c in cohorts["cohorts"]] == [c.size for c in found]


@pytest.mark.parametrize("model", ["all", "markov", "position_based"])
def test_attribution_gives_one_or_all_models_and_credits_add_up(
    client: TestClient, spring: Any, model: str
) -> None:
    response = client.get(
        "/v1/campaigns/spring/attribution", params={"model": model, "lookback": "14d"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body["models"]) == (list(MODELS) if model == "all" else [model])
    assert body["lookback_seconds"] == 14 * 86400
    assert body["conversions"] > 0
    for credits in body["models"].values():
        assert sum(c["conversions"] for c in credits) == pytest.approx(body["conversions"])
        assert sum(c["revenue"] for c in credits) == pytest.approx(body["revenue"])


def test_clv_fits_the_workspace_and_refuses_too_fewcustomers(
    client: TestClient, instance: Instance, workspace: Workspace, clock: SimulatedClock
) -> None:
    assert instance.events is not None
    clock.set(datetime(2027, 3, 1, tzinfo=UTC))
    instance.events.append("events", customers(workspace.id, 5))
    refused = client.get("/v1/clv")
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["problems"][0]["path"] == "customers"

    instance.events.append("events", customers(workspace.id, 120)[40:])
    response = client.get("/v1/clv", params={"period": "7d", "horizon": 26})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = service.customer_value(
        instance.events, workspace.id, now=clock.now(), horizon_periods=26
    )
    assert body["customers"] == expected.customers
    assert body["mean_value"] == pytest.approx(expected.mean_value, rel=1e-3)  # refitted
    assert body["low"] <= body["mean_value"] <= body["high"]
    assert set(body["bgnbd"]["params"]) == {"r", "alpha", "a", "b"}
    assert set(body["gamma_gamma"]["params"]) == {"p", "q", "v"}


@pytest.mark.parametrize(
    ("route", "params", "field"),
    [
        ("funnel", {"steps": "signup"}, "steps"),
        ("funnel", {"steps": "<script>alert(1)</script>,signup"}, "steps[0].type"),
        ("funnel", {"steps": "page_view~,signup"}, "steps[0].url"),
        ("funnel", {"steps": STEPS, "window": "soon"}, "window"),
        ("funnel", {"steps": STEPS, "window": "0d"}, "window"),
        ("funnel", {"steps": STEPS, "since": "2027-03-01T00:00:00"}, "since"),
        ("funnel", {}, "steps"),
        ("attribution", {"model": "magic"}, "model"),
        ("attribution", {"label": "url; DROP TABLE events"}, "label"),
        ("attribution", {"lookback": "-1d"}, "lookback"),
        ("attribution", {"half_life": "1y"}, "half_life"),
        ("paths", {"max_touches": 0}, "max_touches"),
        ("paths", {"top": 5000}, "top"),
        ("cohorts", {"weeks": 500}, "weeks"),
    ],
)
def test_bad_parameters_name_their_field(
    client: TestClient, spring: Any, route: str, params: dict[str, Any], field: str
) -> None:
    response = client.get(f"/v1/campaigns/spring/{route}", params=params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    paths = [p["path"].removeprefix("query.") for p in error["details"]["problems"]]
    assert field in paths, error
    assert "<script>" not in error["message"] or "'" in error["message"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "week"}, "period"),
        ({"horizon": 0}, "horizon"),
        ({"discount_rate": 2}, "discount_rate"),
    ],
)
def test_bad_clv_parameters_name_their_field(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    response = client.get("/v1/clv", params=params)
    assert response.status_code == 422, response.text
    problems = response.json()["error"]["details"]["problems"]
    assert field in [p["path"].removeprefix("query.") for p in problems]


def test_an_unknown_campaign_is_not_found_and_keys_are_required(
    client: TestClient, spring: Any
) -> None:
    assert client.get("/v1/campaigns/autumn/funnel", params={"steps": STEPS}).status_code == 404
    anonymous = client.get(
        "/v1/campaigns/spring/cohorts", headers={"Authorization": "Bearer clr_sk_forged"}
    )
    assert anonymous.status_code == 401
