"""Random rule trees over random contacts and events: the compiled segment equals the reference."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clarion.audiences.segments import (
    AttributeType,
    EngagementThresholds,
    SegmentContext,
    parse_rule,
    reference_members,
    rule_to_data,
    segment_contacts,
)
from clarion.stores.events import EventStore

Loader = Callable[..., str]  # the ``load`` fixture (conftest.py)

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)
ATTRIBUTES: dict[str, AttributeType] = {
    "plan": "string",
    "age": "number",
    "vip": "boolean",
    "renewal": "date",
}
# Small thresholds so that random times land in every level.
THRESHOLDS = EngagementThresholds(new_days=3, active_days=10, dormant_days=25)
STORED_SEGMENTS = {
    "french": {"field": "country", "op": "=", "value": "FR"},
    "buyers": {"did": "conversion", "within_days": 30},
    "engaged-french": {"all": [{"segment": "french"}, {"engagement": ["active", "new"]}]},
}
CONTEXT = SegmentContext(
    attribute_types=ATTRIBUTES,
    resolve_segment=lambda key: (
        parse_rule(STORED_SEGMENTS[key]) if key in STORED_SEGMENTS else None
    ),
    engagement=THRESHOLDS,
)
HOSTILE = [
    "'; DROP TABLE contacts; --",
    "<script>alert(1)</script>",
    "%",
    "_",
    "a\\b",
    'say "hi"',
    "tab\there",
    "é",
    "true",
    "5",
]

# -- data ----------------------------------------------------------------------------------

# Often on or next to a window edge (3, 7, 10, 20, 25, 30 days ago), sometimes in the future.
instants = st.builds(
    lambda days, hours: NOW - timedelta(days=days, hours=hours),
    st.one_of(st.sampled_from([0, 1, 3, 4, 7, 10, 11, 20, 21, 25, 26, 30]), st.integers(-2, 70)),
    st.sampled_from([0, 0, 0, 1, 12, -1]),
)
scalars = st.one_of(
    st.sampled_from(["pro", "free", "", *HOSTILE]),
    st.sampled_from([0, 3, 7, 50, 50.5, -1]),
    st.booleans(),
)
date_texts = st.sampled_from(
    [
        "2027-05-20",
        "2027-05-29T10:00:00Z",
        "2027-05-29T10:00:00+02:00",
        "2027-05-31 23:00:00",
        "nope",
        "2027-13-01",
        "",
    ]
)
attributes = st.one_of(
    st.none(),
    st.just("[1, 2]"),
    st.fixed_dictionaries(
        {},
        optional={
            "plan": scalars,
            "age": scalars,
            "vip": scalars,
            "renewal": st.one_of(date_texts, scalars),
        },
    ),
)
consents = st.sampled_from(
    [None, [], ["marketing:email"], ["marketing:email", "sales:sms"], [1, "sales:sms"], {"a": 1}]
)


@st.composite
def contacts(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for n in range(draw(st.integers(1, 5))):
        for version in range(draw(st.integers(1, 2))):
            rows.append(
                {
                    "contact_id": f"c{n}",
                    "updated_at": NOW - timedelta(days=100 - version),
                    "country": draw(st.sampled_from(["FR", "ES", "DE", None])),
                    "city": draw(st.sampled_from(["Paris", "Par%", "P_ris", None, *HOSTILE])),
                    "persona": draw(st.sampled_from(["ops", "cfo", None])),
                    "lead_score": draw(st.sampled_from([None, 0.0, 10.0, 50.0, 50.5, 99.0])),
                    "created_at": draw(st.one_of(st.none(), instants)),
                    "consents": draw(consents),
                    "suppressed": draw(st.sampled_from([None, True, False])),
                    "erased": draw(st.sampled_from([None, False, False, True])),
                    "attributes": draw(attributes),
                }
            )
    return rows


event_types = st.sampled_from(["page_view", "page_view", "conversion", "email_open", "bounce"])


@st.composite
def events(draw: st.DrawFn, contact_count: int) -> list[dict[str, Any]]:
    rows = []
    for _ in range(draw(st.integers(0, 15))):
        who = draw(st.integers(-3, contact_count))  # negative: anonymous; count: unknown contact
        rows.append(
            {
                "type": draw(event_types),
                "ts": draw(instants),
                "contact_id": None if who < 0 else f"c{who}",
                "anonymous_id": f"a{-who}" if who < 0 else draw(st.sampled_from([None, "a1"])),
                "is_machine": draw(st.sampled_from([None, False, False, True])),
                "url": draw(st.sampled_from(["/pricing", "/pricing?x=1", "/blog", "%", None])),
                "channel": draw(st.sampled_from(["email", "web", None])),
                "revenue": draw(st.sampled_from([None, 10.0, 99.5])),
                "properties": draw(
                    st.one_of(
                        st.none(),
                        st.fixed_dictionaries({}, optional={"plan": scalars, "n": scalars}),
                    )
                ),
            }
        )
    return rows


@st.composite
def identities(draw: st.DrawFn, contact_count: int) -> list[dict[str, Any]]:
    rows = []
    for anonymous in range(1, 4):
        for version in range(draw(st.integers(0, 2))):
            rows.append(
                {
                    "anonymous_id": f"a{anonymous}",
                    "contact_id": f"c{draw(st.integers(0, contact_count))}",
                    "linked_at": NOW - timedelta(days=50 - version),
                    "source": "identify",
                }
            )
    return rows


# -- rules ---------------------------------------------------------------------------------

date_values = st.one_of(
    st.sampled_from(["2027-05-20", "2027-05-29T10:00:00Z", "2027-05-31"]),
    st.builds(lambda d: {"days_ago": d}, st.integers(0, 40)),
)
values_by_type: dict[str, st.SearchStrategy[Any]] = {
    "string": st.sampled_from(["FR", "ES", "Paris", "Par%", "P_ris", "pro", "", *HOSTILE]),
    "number": st.sampled_from([0, 3, 10, 50, 50.5, -1, 99]),
    "boolean": st.booleans(),
    "date": date_values,
}
FIELDS = {
    "country": "string",
    "city": "string",
    "persona": "string",
    "lead_score": "number",
    "created_at": "date",
    "suppressed": "boolean",
    "first_seen": "date",
    "last_seen": "date",
    **{f"attributes.{name}": kind for name, kind in ATTRIBUTES.items()},
}
OPS = {
    "string": ["=", "!=", "in", "contains", "starts_with", "is_set"],
    "number": ["=", "!=", "<", "<=", ">", ">=", "in", "between", "is_set"],
    "boolean": ["=", "!=", "is_set"],
    "date": ["<", "<=", ">", ">=", "between", "is_set"],
}


@st.composite
def comparison(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    op = draw(st.sampled_from(OPS[kind]))
    values = values_by_type[kind]
    if op == "is_set":
        return {"op": op}
    if op == "in":
        return {"op": op, "value": draw(st.lists(values, min_size=1, max_size=3))}
    if op == "between":
        if kind == "number":
            low, high = sorted([draw(values), draw(values)])
            return {"op": op, "value": [low, high]}
        days = sorted([draw(st.integers(0, 40)), draw(st.integers(0, 40))], reverse=True)
        return {"op": op, "value": [{"days_ago": days[0]}, {"days_ago": days[1]}]}
    return {"op": op, "value": draw(values)}


@st.composite
def field_rules(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(FIELDS)))
    return {"field": name, **draw(comparison(FIELDS[name]))}


@st.composite
def where_filters(draw: st.DrawFn) -> dict[str, Any]:
    choices = {
        "url": "string",
        "channel": "string",
        "revenue": "number",
        "properties.plan": "string",
        "properties.n": draw(st.sampled_from(["number", "string", "boolean"])),
    }
    names = draw(st.lists(st.sampled_from(sorted(choices)), max_size=2, unique=True))
    return {name: draw(comparison(choices[name])) for name in names}


windows = st.one_of(
    st.just({}),
    st.builds(lambda d: {"within_days": d}, st.sampled_from([1, 7, 10, 30])),
    st.builds(
        lambda a, b: {"between": [{"days_ago": max(a, b)}, {"days_ago": min(a, b)}]},
        st.integers(0, 40),
        st.integers(0, 40),
    ),
    st.just({"between": ["2027-05-01", "2027-05-31"]}),
)


@st.composite
def did_rules(draw: st.DrawFn) -> dict[str, Any]:
    rule: dict[str, Any] = {"did": draw(event_types), **draw(windows)}
    if where := draw(where_filters()):
        rule["where"] = where
    low = draw(st.one_of(st.none(), st.integers(0, 3)))
    high = draw(st.one_of(st.none(), st.integers(low or 0, 4)))
    if low is not None:
        rule["at_least"] = low
    if high is not None:
        rule["at_most"] = high
    return rule


@st.composite
def but_not_rules(draw: st.DrawFn) -> dict[str, Any]:
    other: Any = draw(event_types)
    if draw(st.booleans()):
        other = {"did": other, "where": draw(where_filters())}
    return {"did": draw(event_types), "but_not": other, **draw(windows)}


leaves = st.one_of(
    field_rules(),
    did_rules(),
    but_not_rules(),
    st.builds(
        lambda level: {"engagement": level},
        st.sampled_from(["new", "active", "returning", "dormant"]),
    ),
    st.builds(
        lambda levels: {"engagement": levels},
        st.lists(
            st.sampled_from(["new", "active", "returning", "dormant"]), min_size=1, max_size=2
        ),
    ),
    st.builds(lambda c: {"consent": c}, st.sampled_from(["marketing:email", "sales:sms"])),
    st.builds(lambda c: {"field": "consents", "op": "is_set"}, st.none()),
    st.builds(lambda key: {"segment": key}, st.sampled_from(sorted(STORED_SEGMENTS))),
)
rules = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda item: {"not": item}, inner),
    ),
    max_leaves=6,
)


levels = st.lists(
    st.sampled_from(["new", "active", "returning", "dormant"]), min_size=1, max_size=2
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Any, ...]:
    people = draw(contacts())
    count = len({row["contact_id"] for row in people})
    # Several rules per data set: loading the data is the slow part of an example. The
    # engagement probe is always there: its definitions have many edges.
    probes = [{"engagement": draw(levels)}, *draw(st.lists(rules, min_size=1, max_size=3))]
    return probes, people, draw(events(count)), draw(identities(count))


# -- properties ----------------------------------------------------------------------------


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases())
def test_the_compiled_segment_matches_the_reference(
    event_store: EventStore, load: Loader, case: tuple[Any, ...]
) -> None:
    probes, people, happenings, links = case
    # Earlier examples left workspaces with the same contact ids in the store: nothing of
    # them may leak into this answer.
    workspace_id = load(contacts=people, events=happenings, identities=links)

    for rule in probes:
        compiled = segment_contacts(event_store, workspace_id, rule, now=NOW, context=CONTEXT)
        found = set(compiled.select("contact_id").to_pyarrow().column("contact_id").to_pylist())
        expected = reference_members(
            rule,
            contacts=[{"workspace_id": workspace_id, **row} for row in people],
            events=[{"workspace_id": workspace_id, **row} for row in happenings],
            identities=[{"workspace_id": workspace_id, **row} for row in links],
            workspace_id=workspace_id,
            now=NOW,
            context=CONTEXT,
        )
        assert found == expected, rule


@settings(max_examples=200, deadline=None)
@given(rule=rules)
def test_a_rule_survives_its_json_form(rule: dict[str, Any]) -> None:
    parsed = parse_rule(rule)

    assert parse_rule(rule_to_data(parsed)) == parsed
