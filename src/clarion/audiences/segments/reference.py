"""A plain-Python evaluator of rules over lists of rows: the truth compile.py is tested against."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from clarion.audiences.segments.context import SegmentContext
from clarion.audiences.segments.engagement import classify
from clarion.audiences.segments.fields import FieldSpec, contact_field, event_field
from clarion.audiences.segments.references import expand
from clarion.audiences.segments.rules import (
    AllOf,
    AnyOf,
    ConsentRule,
    DidButNotRule,
    DidRule,
    EngagementRule,
    EventMatch,
    FieldRule,
    Filter,
    NotRule,
    RuleNode,
)
from clarion.audiences.segments.validate import validate_rule, value_type
from clarion.audiences.segments.windows import Bound, behaviour_window, date_bounds, window_start

Row = Mapping[str, Any]


def reference_members(
    rule: RuleNode | Any,
    *,
    contacts: Iterable[Row],
    events: Iterable[Row] = (),
    identities: Iterable[Row] = (),
    workspace_id: str,
    now: datetime,
    context: SegmentContext | None = None,
) -> set[str]:
    """The ids of the workspace's current contacts that match ``rule``.

    Rows are shaped like the event store tables (``contacts``, ``events``, ``identities``);
    JSON columns may be dicts/lists or JSON text. Ties in ``updated_at`` or ``linked_at``
    are not supported: the store would break them arbitrarily.
    """
    context = context or SegmentContext()
    tree = expand(validate_rule(rule, context), context)
    evaluator = _Evaluator(now, context)
    by_contact = _stitched(events, identities, workspace_id, now)
    return {
        contact["contact_id"]
        for contact in _current(contacts, workspace_id)
        if evaluator.holds(tree, contact, by_contact.get(contact["contact_id"], []))
    }


def _current(contacts: Iterable[Row], workspace_id: str) -> list[Row]:
    newest: dict[str, Row] = {}
    for row in contacts:
        if row["workspace_id"] != workspace_id:
            continue
        held = newest.get(row["contact_id"])
        if held is None or row["updated_at"] > held["updated_at"]:
            newest[row["contact_id"]] = row
    return [row for row in newest.values() if not row.get("erased")]


def _stitched(
    events: Iterable[Row], identities: Iterable[Row], workspace_id: str, now: datetime
) -> dict[str, list[Row]]:
    """A person's events (a machine's left out, none after now), by contact, links applied."""
    links: dict[str, Row] = {}
    for link in identities:
        if link["workspace_id"] != workspace_id:
            continue
        held = links.get(link["anonymous_id"])
        if held is None or link["linked_at"] > held["linked_at"]:
            links[link["anonymous_id"]] = link
    by_contact: dict[str, list[Row]] = defaultdict(list)
    for event in events:
        if event["workspace_id"] != workspace_id or event["ts"] > now or event.get("is_machine"):
            continue
        contact = event.get("contact_id")
        if contact is None and event.get("anonymous_id") in links:
            contact = links[event["anonymous_id"]]["contact_id"]
        if contact is not None:
            by_contact[contact].append(event)
    return by_contact


def _document(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return raw


def _typed(value: Any, kind: str) -> Any:
    """A JSON value if it has the wanted type, else None (wrong types count as unset)."""
    if kind == "string":
        return value if isinstance(value, str) else None
    if kind == "number":
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if number else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    return _instant_text(value) if isinstance(value, str) else None


def _instant_text(text: str) -> datetime | None:
    """An ISO day or instant stored as a date attribute (naive means UTC), else None.

    Matches DuckDB's TRY_CAST to TIMESTAMPTZ for these ISO forms; other spellings DuckDB may
    accept are not promised (docs/segments.md says how to store dates).
    """
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _compare(value: Any, op: str, operand: Any, kind: str, now: datetime) -> bool:
    if value is None:
        return False  # an unset field matches nothing but is_set's negation
    if op == "is_set":
        return True
    if kind == "date":
        return all(bound.holds(value) for bound in date_bounds(op, operand, now))
    results: dict[str, Callable[[], bool]] = {
        "in": lambda: any(value == item for item in operand),
        "between": lambda: bool(operand[0] <= value <= operand[1]),
        "contains": lambda: operand in value,
        "starts_with": lambda: bool(value.startswith(operand)),
        "=": lambda: bool(value == operand),
        "!=": lambda: bool(value != operand),
        "<": lambda: bool(value < operand),
        "<=": lambda: bool(value <= operand),
        ">": lambda: bool(value > operand),
        ">=": lambda: bool(value >= operand),
    }
    return results[op]()


class _Evaluator:
    def __init__(self, now: datetime, context: SegmentContext) -> None:
        self.now = now
        self.context = context
        self.windows = context.engagement.windows(now)

    def holds(self, node: RuleNode, contact: Row, events: list[Row]) -> bool:
        if isinstance(node, AllOf):
            return all(self.holds(child, contact, events) for child in node.all)
        if isinstance(node, AnyOf):
            return any(self.holds(child, contact, events) for child in node.any)
        if isinstance(node, NotRule):
            return not self.holds(node.not_, contact, events)
        if isinstance(node, ConsentRule):
            node = FieldRule(field="consents", op="contains", value=node.consent)
        if isinstance(node, FieldRule):
            return self._field(node, contact, events)
        return self._behaviour(node, contact, events)

    def _behaviour(self, node: RuleNode, contact: Row, events: list[Row]) -> bool:
        if isinstance(node, DidRule):
            window = behaviour_window(node.within_days, node.between, self.now)
            match = EventMatch(did=node.did, where=node.where)
            count = sum(1 for event in events if self._matches(event, match, window))
            low = node.at_least if node.at_least is not None else int(node.at_most is None)
            return count >= low and (node.at_most is None or count <= node.at_most)
        if isinstance(node, DidButNotRule):
            return self._did_but_not(node, events)
        if isinstance(node, EngagementRule):
            wanted = [node.engagement] if isinstance(node.engagement, str) else node.engagement
            return self._level(contact, events) in wanted
        raise TypeError(f"cannot evaluate {type(node).__name__}; were segments expanded?")

    def _field(self, node: FieldRule, contact: Row, events: list[Row]) -> bool:
        spec = contact_field(node.field, self.context.attribute_types)
        assert spec is not None
        value = self._contact_value(spec, contact, events)
        if spec.type == "set":
            if not isinstance(value, list):
                return False
            if node.op == "is_set":
                return len(value) > 0
            return any(isinstance(item, str) and item == node.value for item in value)
        return _compare(value, node.op, node.value, spec.type, self.now)

    def _contact_value(self, spec: FieldSpec, contact: Row, events: list[Row]) -> Any:
        if spec.source == "attribute":
            attributes = _document(contact.get("attributes"))
            found = attributes.get(spec.key) if isinstance(attributes, dict) else None
            return _typed(found, spec.type)
        if spec.source == "activity":
            seen = [event["ts"] for event in self._activity(events)]
            return (min if spec.key == "first" else max)(seen, default=None)
        if spec.type == "set":
            return _document(contact.get(spec.key))
        value = contact.get(spec.key)
        if spec.null_is_false and value is None:
            value = False
        return float(value) if spec.type == "number" and value is not None else value

    def _activity(self, events: list[Row]) -> list[Row]:
        passive = self.context.engagement.not_activity
        return [event for event in events if event["type"] not in passive]

    def _matches(self, event: Row, match: EventMatch, window: list[Bound]) -> bool:
        if event["type"] != match.did or not all(bound.holds(event["ts"]) for bound in window):
            return False
        return all(self._filter(event, name, filter_) for name, filter_ in match.where.items())

    def _filter(self, event: Row, name: str, condition: Filter) -> bool:
        kind, _ = value_type(condition.value)
        spec = event_field(name, kind)
        assert spec is not None
        if spec.source == "property":
            properties = _document(event.get("properties"))
            found = properties.get(spec.key) if isinstance(properties, dict) else None
            if condition.op == "is_set":
                return isinstance(found, str | bool) or (
                    isinstance(found, int | float) and math.isfinite(found)
                )
            value = _typed(found, spec.type)
        else:
            value = event.get(spec.key)
            if spec.type == "number" and value is not None:
                value = float(value)
        return _compare(value, condition.op, condition.value, spec.type, self.now)

    def _did_but_not(self, node: DidButNotRule, events: list[Row]) -> bool:
        window = behaviour_window(node.within_days, node.between, self.now)
        done = EventMatch(did=node.did, where=node.where)
        other = (
            node.but_not if isinstance(node.but_not, EventMatch) else EventMatch(did=node.but_not)
        )
        times = [event["ts"] for event in events if self._matches(event, done, window)]
        if not times:
            return False
        last = max(times)
        start = window_start(window)
        after = [Bound("<=", self.now)] + ([Bound(">=", start)] if start is not None else [])
        return not any(
            event["ts"] >= last for event in events if self._matches(event, other, after)
        )

    def _level(self, contact: Row, events: list[Row]) -> str | None:
        w = self.windows
        seen = [event["ts"] for event in self._activity(events)]
        candidates = [t for t in (contact.get("created_at"), min(seen, default=None)) if t]
        return classify(
            w,
            known=min(candidates, default=None),
            active_now=any(t >= w.active_since for t in seen),
            active_before=any(w.previous_since <= t < w.active_since for t in seen),
            active_recently=any(t >= w.dormant_since for t in seen),
        )
