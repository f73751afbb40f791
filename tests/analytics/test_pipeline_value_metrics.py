"""Pipeline, revenue per contact and CSAT from the dictionary equal a plain-Python computation."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clarion.analytics import service
from clarion.analytics.contracts import Estimate
from clarion.stores.events import EventStore

WS = "ws_pipeline"
START = datetime(2027, 3, 1, 9, tzinfo=UTC)
ORDER = ["lead", "mql", "sql", "opportunity", "customer"]
RANK = {stage: i + 1 for i, stage in enumerate(ORDER)}


def _world(seed: int) -> dict[str, list[dict[str, Any]]]:
    """People moving through the pipeline (some skip stages, some are lost), survey answers,
    sends and conversions, over two campaigns and three channels."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    sends: list[dict[str, Any]] = []
    n = iter(range(10**6))

    def event(type_: str, person: str, at: datetime, **extra: Any) -> None:
        events.append(
            {
                "event_id": f"x{next(n)}",
                "workspace_id": WS,
                "type": type_,
                "ts": at,
                "contact_id": person,
                "campaign_id": extra.pop("campaign"),
                "channel": extra.pop("channel"),
                **extra,
            }
        )

    for p in range(300):
        person, campaign = f"c{p}", rng.choice(["cmp_a", "cmp_b"])
        channel = rng.choice(["email", "search", "social"])
        at = START + timedelta(days=rng.randrange(8), hours=rng.randrange(8))
        stage = rng.choice([0, 0, 1, 2])  # some enter later in the funnel
        while stage < len(ORDER):
            name = ORDER[stage]
            props: dict[str, Any] = {"stage": name}
            if name in ("opportunity", "customer"):
                props["amount"] = float(rng.randrange(100, 5000))
            event(
                "lifecycle_change",
                person,
                at,
                campaign=campaign,
                channel=channel,
                properties=json.dumps(props),
            )
            at += timedelta(hours=rng.choice([2, 20, 50]))
            if name == "opportunity" and rng.random() < 0.4:
                event(
                    "lifecycle_change",
                    person,
                    at,
                    campaign=campaign,
                    channel=channel,
                    properties=json.dumps({"stage": "lost", "amount": props["amount"]}),
                )
                break
            if rng.random() < 0.45:
                break
            stage += 1
        if rng.random() < 0.5:
            scale = rng.choice([5, 5, 10])
            event(
                "survey_response",
                person,
                at,
                campaign=campaign,
                channel=channel,
                properties=json.dumps({"score": rng.randint(1, scale), "scale": scale}),
            )
        if rng.random() < 0.7:
            sends.append(
                {
                    "message_id": f"m{p}",
                    "workspace_id": WS,
                    "campaign_id": campaign,
                    "contact_id": person,
                    "channel": "email",
                    "sent_at": at.replace(hour=8),
                    "status": "sent",
                }
            )
        if rng.random() < 0.3:
            event(
                "conversion",
                person,
                at + timedelta(hours=1),
                campaign=campaign,
                channel="email",
                revenue=float(rng.randrange(10, 300)),
                currency="EUR",
            )
    # Another workspace's answers must not leak in.
    events.append({**events[0], "event_id": "other", "workspace_id": "ws_else"})
    return {"events": events, "sends": sends}


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[EventStore, dict[str, list[dict[str, Any]]]]]:
    rows = _world(17)
    with EventStore.open("duckdb://:memory:") as store:
        store.create_schema()
        store.append("events", rows["events"])
        store.append("message_sends", rows["sends"])
        yield store, rows


def _props(row: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(row["properties"])
    return loaded


def _key(row: dict[str, Any], by: tuple[str, ...]) -> tuple[str, ...]:
    fields = {"campaign": row["campaign_id"], "channel": row["channel"], "day": row["ts"].date()}
    return tuple(str(fields[d]) for d in by)


def _people_ratio(
    rows: list[dict[str, Any]],
    by: tuple[str, ...],
    num: Callable[[list[dict[str, Any]]], bool],
    den: Callable[[list[dict[str, Any]]], bool] | None,
) -> dict[tuple[str, ...], tuple[float, int]]:
    """Per group: Σ num / Σ den over people (units), or Σ num for a total; and the unit count."""
    groups: dict[tuple[str, ...], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows:
        if row["workspace_id"] == WS and row["type"] == "lifecycle_change":
            groups[_key(row, by)][row["contact_id"]].append(_props(row))
    out = {}
    for group, people in groups.items():
        x = sum(num(changes) for changes in people.values())
        if den is None:
            out[group] = (float(x), len(people))
            continue
        y = sum(den(changes) for changes in people.values())
        if y:
            out[group] = (x / y, len(people))
    return out


def _to(stage: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda changes: any(c["stage"] == stage for c in changes)


def _reached(stage: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda changes: any(RANK.get(c["stage"], 0) >= RANK[stage] for c in changes)


PEOPLE_METRICS = {
    "new_leads": (_to("lead"), None),
    "mqls": (_to("mql"), None),
    "sqls": (_to("sql"), None),
    "customers": (_to("customer"), None),
    "lead_to_mql_rate": (_reached("mql"), _reached("lead")),
    "mql_to_sql_rate": (_reached("sql"), _reached("mql")),
    "sql_to_customer_rate": (_reached("customer"), _reached("sql")),
    "win_rate": (
        _to("customer"),
        lambda changes: any(c["stage"] in ("customer", "lost") for c in changes),
    ),
}
GROUPINGS: list[tuple[str, ...]] = [(), ("campaign",), ("channel",), ("campaign", "day")]


def _found(store: EventStore, metric: str, by: tuple[str, ...]) -> dict[tuple[str, ...], Estimate]:
    rows = service.metrics_by(store, WS, [metric], by)
    return {tuple(r.group[d] for d in by): r.metrics[metric] for r in rows}


@pytest.mark.parametrize("by", GROUPINGS)
@pytest.mark.parametrize("metric", list(PEOPLE_METRICS))
def test_pipeline_metrics_count_people_as_the_reference_does(
    world: tuple[EventStore, dict[str, list[dict[str, Any]]]], metric: str, by: tuple[str, ...]
) -> None:
    store, rows = world
    num, den = PEOPLE_METRICS[metric]
    expected = _people_ratio(rows["events"], by, num, den)
    found = {g: e for g, e in _found(store, metric, by).items() if e.value is not None}
    assert set(found) == set(expected)
    for group, (value, people) in expected.items():
        estimate = found[group]
        assert estimate.value == pytest.approx(value), group
        assert estimate.sums.n == people  # the unit is a person
        assert estimate.low is not None and estimate.high is not None
        assert estimate.low <= estimate.value <= estimate.high


def test_a_binary_rate_over_people_has_a_binomial_sized_interval(
    world: tuple[EventStore, dict[str, list[dict[str, Any]]]],
) -> None:
    store, _ = world
    (estimate,) = _found(store, "win_rate", ()).values()
    assert estimate.value is not None and estimate.std_error is not None
    closed = estimate.sums.den_sum
    binomial = (estimate.value * (1 - estimate.value) / closed) ** 0.5
    assert estimate.std_error == pytest.approx(binomial, rel=0.05)


@pytest.mark.parametrize("by", GROUPINGS[:3])
def test_pipeline_growth_is_value_opened_over_value_closed_minus_one(
    world: tuple[EventStore, dict[str, list[dict[str, Any]]]], by: tuple[str, ...]
) -> None:
    store, rows = world
    opened: dict[tuple[str, ...], float] = defaultdict(float)
    closed: dict[tuple[str, ...], float] = defaultdict(float)
    for row in rows["events"]:
        if row["workspace_id"] != WS or row["type"] != "lifecycle_change":
            continue
        props = _props(row)
        if props["stage"] == "opportunity":
            opened[_key(row, by)] += props["amount"]
        if props["stage"] in ("customer", "lost"):
            closed[_key(row, by)] += props["amount"]
    found = _found(store, "pipeline_growth", by)
    for group, value in closed.items():
        assert found[group].value == pytest.approx(opened[group] / value - 1)
    growth = found[()] if not by else next(iter(found.values()))
    assert growth.low is not None and growth.low < growth.value  # type: ignore[operator]


@pytest.mark.parametrize("by", GROUPINGS[:3])
def test_csat_is_the_top_two_boxes_of_each_scale(
    world: tuple[EventStore, dict[str, list[dict[str, Any]]]], by: tuple[str, ...]
) -> None:
    store, rows = world
    answers: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for row in rows["events"]:
        if row["workspace_id"] == WS and row["type"] == "survey_response":
            props = _props(row)
            answers[_key(row, by)].append(int(props["score"] >= props["scale"] - 1))
    found = _found(store, "csat", by)
    assert set(found) == set(answers)
    for group, satisfied in answers.items():
        share = sum(satisfied) / len(satisfied)
        estimate = found[group]
        assert estimate.value == pytest.approx(share)
        assert estimate.sums.n == len(satisfied)
        assert estimate.std_error == pytest.approx(
            (share * (1 - share) / len(satisfied)) ** 0.5, rel=0.05
        )


def test_revenue_per_contact_divides_revenue_by_contacts_messaged(
    world: tuple[EventStore, dict[str, list[dict[str, Any]]]],
) -> None:
    store, rows = world
    by = ("campaign",)
    revenue: dict[tuple[str, ...], float] = defaultdict(float)
    for row in rows["events"]:
        if row["workspace_id"] == WS and row["type"] == "conversion":
            revenue[_key(row, by)] += row["revenue"]
    # Contacts are counted per day cell: one send per contact here, so it is distinct contacts.
    contacts: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for send in rows["sends"]:
        contacts[(send["campaign_id"],)].add(send["contact_id"])
    found = _found(store, "revenue_per_contact", by)
    for group, people in contacts.items():
        estimate = found[group]
        assert estimate.value == pytest.approx(revenue[group] / len(people))
        assert estimate.low is not None and estimate.low <= estimate.value  # type: ignore[operator]
