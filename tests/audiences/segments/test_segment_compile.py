"""Segments by example: each rule on a small known workspace, compiled and by the reference."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clarion.audiences.segments import (
    EngagementThresholds,
    SegmentContext,
    parse_rule,
    reference_members,
    segment_contacts,
)
from clarion.stores.events import EventStore

Loader = Callable[..., str]  # the ``load`` fixture (conftest.py)

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)
HOSTILE = "'; DROP TABLE contacts; --"


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


CONTACTS: list[dict[str, Any]] = [
    {
        "contact_id": "ana",
        "country": "FR",
        "city": "Paris",
        "persona": "ops",
        "lead_score": 72.0,
        "created_at": ago(200),
        "consents": ["marketing:email"],
        "attributes": {
            "plan": "pro",
            "age": 34,
            "vip": True,
            "renewal": "2027-07-01",
            "2fa_enabled": True,
        },
    },
    {
        "contact_id": "ben",
        "country": "ES",
        "city": "Madrid",
        "persona": "cfo",
        "lead_score": 15.0,
        "created_at": ago(2),
        "consents": [],
        "suppressed": False,
        "attributes": {"plan": "free", "age": "34"},  # a string age counts as unset
    },
    {
        "contact_id": "chloe",
        "country": "FR",
        "city": "Par%is",
        "created_at": ago(400),
        "consents": ["marketing:email", "sales:sms"],
        "suppressed": True,
        "attributes": {"plan": HOSTILE, "bio": "<script>alert(1)</script>"},
    },
    # dan's older version says FR; the newest (DE) wins.
    {"contact_id": "dan", "country": "FR", "lead_score": 50.0, "updated_at": ago(30)},
    {"contact_id": "dan", "country": "DE", "lead_score": 50.0, "updated_at": ago(1)},
    {"contact_id": "eve", "country": "FR", "erased": True, "created_at": ago(3)},
    {"contact_id": "fay", "country": "US", "created_at": ago(100)},
    {"contact_id": "gus", "created_at": ago(300)},
]
EVENTS: list[dict[str, Any]] = [
    {"type": "page_view", "ts": ago(1), "contact_id": "ana", "url": "https://x.io/pricing"},
    {"type": "page_view", "ts": ago(3), "contact_id": "ana", "url": "https://x.io/pricing"},
    {"type": "conversion", "ts": ago(70), "contact_id": "ana", "revenue": 120.0},
    {"type": "email_open", "ts": ago(1), "contact_id": "ana", "is_machine": True},
    # ben browsed anonymously, then identified; his conversion came after the pricing view.
    {"type": "page_view", "ts": ago(2), "anonymous_id": "a1", "url": "https://x.io/pricing"},
    {
        "type": "conversion",
        "ts": ago(1),
        "contact_id": "ben",
        "revenue": 49.0,
        "properties": {"plan": "pro", "trial": True},
    },
    {"type": "page_view", "ts": ago(5), "contact_id": "chloe", "url": "https://x.io/blog"},
    {"type": "page_view", "ts": ago(45), "contact_id": "chloe", "url": "https://x.io/blog"},
    {"type": "bounce", "ts": ago(1), "contact_id": "chloe"},
    {"type": "page_view", "ts": ago(20), "contact_id": "dan", "url": "https://x.io/"},
    {"type": "page_view", "ts": ago(50), "contact_id": "gus", "url": "https://x.io/"},
    {"type": "page_view", "ts": ago(0.1), "contact_id": "gus", "is_machine": True},
    {"type": "conversion", "ts": ago(-1), "contact_id": "gus"},  # in the future: not yet
    {"type": "page_view", "ts": ago(1), "anonymous_id": "nobody"},  # never identified
]
IDENTITIES = [
    {"anonymous_id": "a1", "contact_id": "dan", "linked_at": ago(10), "source": "identify"},
    {"anonymous_id": "a1", "contact_id": "ben", "linked_at": ago(2), "source": "identify"},
]
STORED = {
    "french": {"field": "country", "op": "=", "value": "FR"},
    "pricing-fans": {"did": "page_view", "where": {"url": {"op": "contains", "value": "/pricing"}}},
}
CONTEXT = SegmentContext(
    attribute_types={
        "plan": "string",
        "age": "number",
        "vip": "boolean",
        "renewal": "date",
        "2fa_enabled": "boolean",
    },
    resolve_segment=lambda key: parse_rule(STORED[key]) if key in STORED else None,
)
PRICING = {"url": {"op": "contains", "value": "/pricing"}}

CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    # attributes
    ("in", {"field": "country", "op": "in", "value": ["FR", "ES"]}, {"ana", "ben", "chloe"}),
    ("!= leaves unset out", {"field": "country", "op": "!=", "value": "FR"}, {"ben", "dan", "fay"}),
    (
        "not = keeps unset in",
        {"not": {"field": "country", "op": "=", "value": "FR"}},
        {"ben", "dan", "fay", "gus"},
    ),
    ("% is a character", {"field": "city", "op": "contains", "value": "%"}, {"chloe"}),
    ("starts with", {"field": "city", "op": "starts with", "value": "Par"}, {"ana", "chloe"}),
    ("≥", {"field": "lead_score", "op": "≥", "value": 50}, {"ana", "dan"}),
    ("between", {"field": "lead_score", "op": "between", "value": [15, 50]}, {"ben", "dan"}),
    ("is set", {"field": "lead_score", "op": "is_set"}, {"ana", "ben", "dan"}),
    ("days ago", {"field": "created_at", "op": ">=", "value": {"days_ago": 7}}, {"ben"}),
    (
        "before a day",
        {"field": "created_at", "op": "<", "value": "2027-01-01"},
        {"ana", "chloe", "gus"},
    ),
    # ana was created on 2026-11-13 at noon: <= that day includes her, < it does not.
    (
        "<= a whole day",
        {"field": "created_at", "op": "<=", "value": "2026-11-13"},
        {"ana", "chloe", "gus"},
    ),
    ("< a day", {"field": "created_at", "op": "<", "value": "2026-11-13"}, {"chloe", "gus"}),
    ("> a day", {"field": "created_at", "op": ">", "value": "2026-11-12"}, {"ana", "ben", "fay"}),
    ("number attribute", {"field": "attributes.age", "op": ">", "value": 30}, {"ana"}),
    ("boolean attribute", {"field": "attributes.vip", "op": "=", "value": True}, {"ana"}),
    ("digit first", {"field": "attributes.2fa_enabled", "op": "!=", "value": False}, {"ana"}),
    ("date attribute", {"field": "attributes.renewal", "op": ">", "value": "2027-06-15"}, {"ana"}),
    ("SQL is a value", {"field": "attributes.plan", "op": "=", "value": HOSTILE}, {"chloe"}),
    (
        "missing boolean is false",
        {"field": "suppressed", "op": "=", "value": False},
        {"ana", "ben", "dan", "fay", "gus"},
    ),
    ("consent", {"consent": "marketing:email"}, {"ana", "chloe"}),
    ("any consent", {"field": "consents", "op": "is_set"}, {"ana", "chloe"}),
    ("persona", {"field": "persona", "op": "in", "value": ["ops", "cfo"]}, {"ana", "ben"}),
    # behaviour
    (
        "at least twice",
        {"did": "page_view", "where": PRICING, "at_least": 2, "within_days": 14},
        {"ana"},
    ),
    ("stitched", {"did": "page_view", "where": PRICING, "within_days": 14}, {"ana", "ben"}),
    ("never", {"did": "conversion", "at_most": 0}, {"chloe", "dan", "fay", "gus"}),
    (
        "not lately",
        {"did": "conversion", "at_most": 0, "within_days": 30},
        {"ana", "chloe", "dan", "fay", "gus"},
    ),
    ("but not", {"did": "page_view", "but_not": "conversion", "within_days": 7}, {"ana", "chloe"}),
    (
        "but not, filtered",
        {
            "did": "page_view",
            "where": PRICING,
            "but_not": {"did": "conversion", "where": {"revenue": {"op": ">", "value": 100}}},
            "within_days": 7,
        },
        {"ana", "ben"},
    ),
    ("machines do not count", {"did": "email_open"}, set()),
    (
        "between days",
        {"did": "page_view", "between": ["2027-05-01", "2027-05-31"]},
        {"ana", "ben", "chloe", "dan"},
    ),
    ("property", {"did": "conversion", "where": {"properties.plan": "pro"}}, {"ben"}),
    (
        "boolean property set",
        {"did": "conversion", "where": {"properties.trial": {"op": "is_set"}}},
        {"ben"},
    ),
    (
        "column filter",
        {"did": "conversion", "where": {"revenue": {"op": "<", "value": 100}}},
        {"ben"},
    ),
    # engagement (defaults: new 14, active 30, dormant 90 days)
    ("new", {"engagement": "new"}, {"ben"}),
    ("returning", {"engagement": "returning"}, {"ana"}),
    ("active", {"engagement": "active"}, {"chloe", "dan"}),
    ("dormant", {"engagement": "dormant"}, {"fay"}),
    ("levels", {"engagement": ["new", "dormant"]}, {"ben", "fay"}),
    ("first seen", {"field": "first_seen", "op": ">=", "value": {"days_ago": 30}}, {"ben", "dan"}),
    ("last seen", {"field": "last_seen", "op": "<", "value": {"days_ago": 40}}, {"gus"}),
    # segments and nesting
    ("segment", {"segment": "french"}, {"ana", "chloe"}),
    ("behavioural segment", {"not": {"segment": "pricing-fans"}}, {"chloe", "dan", "fay", "gus"}),
    (
        "nested",
        {
            "all": [
                {"field": "country", "op": "in", "value": ["FR", "ES"]},
                {
                    "any": [
                        {"did": "page_view", "where": PRICING, "at_least": 2, "within_days": 14},
                        {"field": "lead_score", "op": ">=", "value": 50},
                    ]
                },
                {"not": {"did": "conversion", "within_days": 30}},
            ]
        },
        {"ana"},
    ),
]


@pytest.fixture(scope="module")
def workspace(load: Loader) -> str:
    load(contacts=CONTACTS, events=EVENTS, identities=IDENTITIES)  # a neighbour, same ids
    return load(contacts=CONTACTS, events=EVENTS, identities=IDENTITIES)


def _compiled(store: EventStore, workspace_id: str, rule: Any, context: SegmentContext) -> set[str]:
    members = segment_contacts(store, workspace_id, rule, now=NOW, context=context)
    return set(members.select("contact_id").to_pyarrow().column("contact_id").to_pylist())


def _reference(workspace_id: str, rule: Any, context: SegmentContext) -> set[str]:
    def rows(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"workspace_id": workspace_id, "updated_at": ago(5), **row} for row in table]

    return reference_members(
        rule,
        contacts=rows(CONTACTS),
        events=[{"workspace_id": workspace_id, **row} for row in EVENTS],
        identities=[{"workspace_id": workspace_id, **row} for row in IDENTITIES],
        workspace_id=workspace_id,
        now=NOW,
        context=context,
    )


@pytest.mark.parametrize(("rule", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_rule_selects_the_expected_contacts(
    event_store: EventStore, workspace: str, rule: dict[str, Any], expected: set[str]
) -> None:
    assert _compiled(event_store, workspace, rule, CONTEXT) == expected
    assert _reference(workspace, rule, CONTEXT) == expected


def test_the_contacts_table_is_still_there_after_a_hostile_value(
    event_store: EventStore, workspace: str
) -> None:
    rule = {"field": "city", "op": "in", "value": [HOSTILE, "<b>", "x' OR '1'='1"]}

    assert _compiled(event_store, workspace, rule, CONTEXT) == set()
    assert _compiled(event_store, workspace, {"field": "city", "op": "is_set"}, CONTEXT)


def test_engagement_thresholds_are_parameters(event_store: EventStore, workspace: str) -> None:
    # A year of "new" makes ana (200 days) and fay (100 days) new too, and nobody dormant.
    context = SegmentContext(
        engagement=EngagementThresholds(new_days=250, active_days=250, dormant_days=250)
    )

    assert _compiled(event_store, workspace, {"engagement": "new"}, context) == {
        "ana",
        "ben",
        "dan",
        "fay",
    }
    assert _compiled(event_store, workspace, {"engagement": "dormant"}, context) == set()


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(0), {"edge"}),  # exactly 7 days ago: inside "the last 7 days"
        (timedelta(microseconds=1), set()),  # a microsecond earlier: outside
        (-timedelta(days=8), set()),  # in the future: not yet
    ],
    ids=["on the edge", "just before", "future"],
)
def test_window_edges(
    event_store: EventStore, load: Loader, offset: timedelta, expected: set[str]
) -> None:
    workspace_id = load(
        contacts=[{"contact_id": "edge"}],
        events=[{"type": "click", "ts": ago(7) - offset, "contact_id": "edge"}],
    )

    rule = {"did": "click", "within_days": 7}
    assert _compiled(event_store, workspace_id, rule, SegmentContext()) == expected


def test_activity_exactly_at_the_period_start_counts_as_now(
    event_store: EventStore, load: Loader
) -> None:
    # Active in [now - 30d, now]; the previous period is [now - 60d, now - 30d).
    workspace_id = load(
        contacts=[{"contact_id": "back", "created_at": ago(365)}],
        events=[{"type": "click", "ts": ago(30), "contact_id": "back"}],
    )

    assert _compiled(event_store, workspace_id, {"engagement": "returning"}, SegmentContext()) == {
        "back"
    }


def test_a_segment_is_one_expression_over_one_scan_of_events(
    event_store: EventStore, workspace: str
) -> None:
    rule = {
        "all": [
            {"did": "page_view", "within_days": 7},
            {"did": "page_view", "within_days": 7},  # the same aggregate, counted once
            {"did": "conversion", "at_most": 0},
            {"engagement": "active"},
        ]
    }
    members = segment_contacts(event_store, workspace, rule, now=NOW, context=CONTEXT)
    sql = str(event_store.connection.compile(members))

    assert sql.count('FROM "events"') == 1
    assert sql.count("GROUP BY") == 1


def test_the_deepest_and_widest_rules_allowed_compile_and_run(
    event_store: EventStore, workspace: str
) -> None:
    deep: dict[str, Any] = {"did": "page_view", "within_days": 7}
    for level in range(31):
        wrappers: list[dict[str, Any]] = [{"all": [deep]}, {"any": [deep]}, {"not": deep}]
        deep = wrappers[level % 3]
    wide = {"any": [{"field": "lead_score", "op": ">", "value": n} for n in range(400)]}
    # With the segments it uses, a rule may reach 64 levels.
    stored = {"deep": deep}
    context = SegmentContext(resolve_segment=lambda key: parse_rule(stored[key]))
    deeper: dict[str, Any] = {"segment": "deep"}
    for _ in range(31):
        deeper = {"all": [deeper]}

    for rule, ctx in ((deep, CONTEXT), (wide, CONTEXT), (deeper, context)):
        assert _compiled(event_store, workspace, rule, ctx) == _reference(workspace, rule, ctx)
