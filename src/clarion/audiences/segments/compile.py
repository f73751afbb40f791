"""Compile a rule tree into one Ibis expression over the contact mirror and the events."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, TypeAlias

import ibis
import ibis.expr.types as ir

from clarion.audiences.mirror import current_contacts
from clarion.audiences.segments.context import SegmentContext
from clarion.audiences.segments.engagement import EngagementThresholds
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
from clarion.stores.events import EventStore

Predicate: TypeAlias = Callable[[ir.Table], ir.BooleanValue]
Condition: TypeAlias = Callable[[ir.Table], ir.BooleanValue]
AggregateKind: TypeAlias = Literal["count", "first", "last"]

_KEY: Final = "seg_contact_id"  # the per-contact aggregates' join key
_INSTANT: Final = "timestamp('UTC')"


def segment_contacts(
    store: EventStore,
    workspace_id: str,
    rule: RuleNode | Any,
    *,
    now: datetime,
    context: SegmentContext | None = None,
) -> ir.Table:
    """The workspace's current contacts that match ``rule``, as one Ibis expression.

    The rule is validated first (InvalidInput with paths). Values enter the expression as
    typed literals; names are checked against the catalogue: no rule text becomes SQL text.
    Behaviour is counted in one pass over the workspace's stitched events.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    context = context or SegmentContext()
    tree = expand(validate_rule(rule, context), context)
    compiler = _Compiler(now, context)
    predicate = compiler.rule(tree)
    contacts = current_contacts(store, workspace_id)
    if not compiler.aggregates:
        return contacts.filter(predicate(contacts))
    per_contact = compiler.per_contact(store, workspace_id)
    joined = contacts.left_join(per_contact, contacts.contact_id == per_contact[_KEY])
    return joined.filter(predicate(joined)).select(*contacts.columns)


def _balanced(items: Sequence[ir.BooleanValue], conjunction: bool) -> ir.BooleanValue:
    # A balanced tree of AND/OR keeps the expression (and SQL compilers' recursion) shallow
    # for a rule with hundreds of siblings.
    if len(items) == 1:
        return items[0]
    middle = len(items) // 2
    left, right = _balanced(items[:middle], conjunction), _balanced(items[middle:], conjunction)
    return left & right if conjunction else left | right


def _compare(value: ir.Value, op: str, operand: Any, kind: str, now: datetime) -> ir.BooleanValue:
    """``value <op> operand`` for a field of type ``kind``; null (unset) where value is null."""
    if op == "is_set":
        return value.notnull()
    if kind == "date":
        bounds = date_bounds(op, operand, now)
        return _balanced([_bound(value, bound) for bound in bounds], conjunction=True)
    comparisons: dict[str, Callable[[], ir.BooleanValue]] = {
        "in": lambda: value.isin([_literal(item, kind) for item in operand]),
        "between": lambda: (
            (value >= _literal(operand[0], kind)) & (value <= _literal(operand[1], kind))
        ),
        # contains/starts_with compile to functions (CONTAINS, STARTS_WITH), not LIKE: % and _
        # in a value are characters, not wildcards.
        "contains": lambda: value.contains(_literal(operand, kind)),
        "starts_with": lambda: value.startswith(_literal(operand, kind)),
        "=": lambda: value == _literal(operand, kind),
        "!=": lambda: value != _literal(operand, kind),
        "<": lambda: value < _literal(operand, kind),
        "<=": lambda: value <= _literal(operand, kind),
        ">": lambda: value > _literal(operand, kind),
        ">=": lambda: value >= _literal(operand, kind),
    }
    return comparisons[op]()


def _literal(value: Any, kind: str) -> ir.Value:
    if kind == "number":
        return ibis.literal(float(value), type="float64")
    if kind == "boolean":
        return ibis.literal(bool(value), type="boolean")
    return ibis.literal(str(value), type="string")


def _bound(value: ir.Value, bound: Bound) -> ir.BooleanValue:
    at = ibis.literal(bound.at, type=_INSTANT)
    if bound.op == "<":
        return value < at
    if bound.op == "<=":
        return value <= at
    if bound.op == ">":
        return value > at
    return value >= at


def _event_match(event: str | EventMatch) -> EventMatch:
    return event if isinstance(event, EventMatch) else EventMatch(did=event)


def _json_value(document: ir.Value, key: str, kind: str) -> ir.Value:
    """The value at ``key`` of a JSON-text column if it has JSON type ``kind``, else null."""
    item = document.cast("json")[key]
    if kind == "number":
        return item.float
    if kind == "boolean":
        return item.bool
    if kind == "date":
        return item.str.try_cast(_INSTANT)
    return item.str


def _json_equals(document: ir.Value, key: str, op: str, operand: Any) -> ir.BooleanValue:
    """``=`` or ``in`` on a string or boolean held in JSON text, as one comparison of JSON text.

    The engine writes an extracted value back as minimal JSON (``"pro"``, ``true``), as
    ``json.dumps`` does, so equal text means equal type and value; extracting and checking the
    type first would read the document twice.
    """
    text = document.cast("json")[key].cast("string")
    operands = operand if op == "in" else [operand]
    encoded = [
        ibis.literal(json.dumps(item, ensure_ascii=False), type="string") for item in operands
    ]
    return text.isin(encoded) if op == "in" else text == encoded[0]


def _by_json_text(kind: str, op: str) -> bool:
    return kind in ("string", "boolean") and op in ("=", "in")


class _Compiler:
    """Turns rule nodes into predicates, collecting the per-contact event aggregates they use."""

    def __init__(self, now: datetime, context: SegmentContext) -> None:
        self.now = now
        self.context = context
        self.thresholds: EngagementThresholds = context.engagement
        self.aggregates: dict[str, _Aggregate] = {}
        self._names: dict[str, str] = {}
        self._types: set[str] | None = set()  # event types the aggregates read; None: any
        self._starts: list[datetime | None] = []

    # -- rules -------------------------------------------------------------------------------

    def rule(self, node: RuleNode) -> Predicate:
        if isinstance(node, AllOf | AnyOf):
            conjunction = isinstance(node, AllOf)
            members = node.all if isinstance(node, AllOf) else node.any
            parts = [self.rule(child) for child in members]
            return lambda t: _balanced([part(t) for part in parts], conjunction)
        if isinstance(node, NotRule):
            inner = self.rule(node.not_)
            return lambda t: ~inner(t)
        if isinstance(node, ConsentRule):
            node = FieldRule(field="consents", op="contains", value=node.consent)
        leaves: dict[type[Any], Callable[[Any], Predicate]] = {
            FieldRule: self._field,
            DidRule: self._did,
            DidButNotRule: self._did_but_not,
            EngagementRule: self._engagement,
        }
        if type(node) not in leaves:
            raise TypeError(f"cannot compile {type(node).__name__}; were segments expanded?")
        return leaves[type(node)](node)

    def _field(self, node: FieldRule) -> Predicate:
        spec = contact_field(node.field, self.context.attribute_types)
        assert spec is not None  # validated
        if spec.source == "attribute" and _by_json_text(spec.type, node.op):
            return lambda t: _json_equals(t.attributes, spec.key, node.op, node.value).fill_null(
                False
            )
        value = self._contact_value(spec)
        if spec.type == "set":
            return lambda t: self._set(value(t), node.op, node.value).fill_null(False)
        return lambda t: _compare(value(t), node.op, node.value, spec.type, self.now).fill_null(
            False
        )

    def _set(self, items: ir.Value, op: str, operand: Any) -> ir.BooleanValue:
        if op == "is_set":
            return items.length() > 0
        # Elements compare as JSON; DuckDB normalises escapes, so the literal need not match
        # the stored text byte for byte.
        encoded = json.dumps(operand, ensure_ascii=False)
        return items.contains(ibis.literal(encoded, type="string").cast("json"))

    def _contact_value(self, spec: FieldSpec) -> Callable[[ir.Table], ir.Value]:
        if spec.source == "attribute":
            return lambda t: _json_value(t.attributes, spec.key, spec.type)
        if spec.source == "activity":
            name = self._activity_bound(spec.key)
            return lambda t: t[name]
        if spec.type == "set":
            # TRY_CAST: anything but a JSON array (an object, a string) reads as unset.
            return lambda t: t[spec.key].cast("json").try_cast("array<json>")
        if spec.null_is_false:
            return lambda t: t[spec.key].fill_null(False)
        return lambda t: t[spec.key]

    def _did(self, node: DidRule) -> Predicate:
        window = behaviour_window(node.within_days, node.between, self.now)
        match = EventMatch(did=node.did, where=node.where)
        name = self._aggregate(
            ("did", match, window),
            "count",
            lambda e: self._matches(e, match, window),
            {node.did},
            window_start(window),
        )
        low = node.at_least if node.at_least is not None else (0 if node.at_most is not None else 1)
        high = node.at_most

        def predicate(t: ir.Table) -> ir.BooleanValue:
            count = t[name].fill_null(0)
            parts = []
            if low > 0:
                parts.append(count >= low)
            if high is not None:
                parts.append(count <= high)
            return _balanced(parts, True) if parts else ibis.literal(True)

        return predicate

    def _did_but_not(self, node: DidButNotRule) -> Predicate:
        window = behaviour_window(node.within_days, node.between, self.now)
        start = window_start(window)
        done = EventMatch(did=node.did, where=node.where)
        other = _event_match(node.but_not)
        # Events of the other kind before the window precede every event in it: leave them out.
        after = [Bound("<=", self.now)] + ([Bound(">=", start)] if start is not None else [])
        last_done = self._aggregate(
            ("did", done, window),
            "last",
            lambda e: self._matches(e, done, window),
            {done.did},
            start,
        )
        last_other = self._aggregate(
            ("did", other, after),
            "last",
            lambda e: self._matches(e, other, after),
            {other.did},
            start,
        )

        def predicate(t: ir.Table) -> ir.BooleanValue:
            followed = t[last_other].notnull() & (t[last_other] >= t[last_done])
            return (t[last_done].notnull() & ~followed.fill_null(False)).fill_null(False)

        return predicate

    def _engagement(self, node: EngagementRule) -> Predicate:
        wanted = [node.engagement] if isinstance(node.engagement, str) else node.engagement
        w = self.thresholds.windows(self.now)
        first = self._activity_bound("first")
        active_now = self._activity_count([Bound(">=", w.active_since)])
        active_before = self._activity_count(
            [Bound(">=", w.previous_since), Bound("<", w.active_since)]
        )
        active_recently = self._activity_count([Bound(">=", w.dormant_since)])

        def predicate(t: ir.Table) -> ir.BooleanValue:
            created, seen = t.created_at, t[first]
            known = ibis.cases(
                (created.isnull(), seen),
                (seen.isnull(), created),
                else_=ibis.least(created, seen),
            )
            new = (known >= ibis.literal(w.new_since, type=_INSTANT)).fill_null(False)
            now_ = t[active_now].fill_null(0) > 0
            before = t[active_before].fill_null(0) > 0
            recently = t[active_recently].fill_null(0) > 0
            old = (known < ibis.literal(w.previous_since, type=_INSTANT)).fill_null(False)
            returning = ~new & now_ & ~before & old
            levels = {
                "new": new,
                "returning": returning,
                "active": ~new & now_ & ~returning,
                "dormant": ~new & ~recently,
            }
            return _balanced([levels[level] for level in wanted], conjunction=False)

        return predicate

    # -- per-contact aggregates ----------------------------------------------------------------

    def _aggregate(
        self,
        key: tuple[Any, ...],
        kind: AggregateKind,
        condition: Condition,
        types: set[str] | None,
        start: datetime | None,
    ) -> str:
        """The column name of an aggregate, registered once however often rules use it."""
        canonical = json.dumps(
            [
                kind,
                key[0],
                key[1].model_dump(mode="json") if isinstance(key[1], EventMatch) else key[1],
                [(bound.op, bound.at.isoformat()) for bound in key[2]],
            ],
            sort_keys=True,
            default=str,
        )
        if canonical not in self._names:
            name = f"seg_{len(self._names)}"
            self._names[canonical] = name
            self.aggregates[name] = _Aggregate(kind, condition)
            self._types = None if types is None or self._types is None else self._types | types
            self._starts.append(start)
        return self._names[canonical]

    def _activity(self, e: ir.Table) -> ir.BooleanValue:
        return ~e.type.isin(sorted(self.thresholds.not_activity))

    def _activity_bound(self, which: str) -> str:
        kind: AggregateKind = "first" if which == "first" else "last"
        return self._aggregate(("activity", None, []), kind, self._activity, None, None)

    def _activity_count(self, bounds: list[Bound]) -> str:
        def condition(e: ir.Table) -> ir.BooleanValue:
            parts = [self._activity(e), *(_bound(e.ts, bound) for bound in bounds)]
            return _balanced(parts, conjunction=True)

        return self._aggregate(("activity", None, bounds), "count", condition, None, bounds[0].at)

    def _matches(self, e: ir.Table, match: EventMatch, bounds: list[Bound]) -> ir.BooleanValue:
        parts = [e.type == ibis.literal(match.did, type="string")]
        parts += [_bound(e.ts, bound) for bound in bounds]
        parts += [self._filter(e, name, condition) for name, condition in match.where.items()]
        return _balanced(parts, conjunction=True)

    def _filter(self, e: ir.Table, name: str, condition: Filter) -> ir.BooleanValue:
        kind, _ = value_type(condition.value)
        spec = event_field(name, kind)
        assert spec is not None  # validated
        if spec.source == "property":
            if condition.op == "is_set":
                # Set means a scalar value: a string, a number or a boolean.
                item = e.properties.cast("json")[spec.key]
                return item.str.notnull() | item.float.notnull() | item.bool.notnull()
            if _by_json_text(spec.type, condition.op):
                return _json_equals(e.properties, spec.key, condition.op, condition.value)
            value = _json_value(e.properties, spec.key, spec.type)
        else:
            value = e[spec.key]
        return _compare(value, condition.op, condition.value, spec.type, self.now)

    def per_contact(self, store: EventStore, workspace_id: str) -> ir.Table:
        """One row per contact with events: every registered aggregate, in one pass.

        Only events some aggregate counts are grouped (the disjunction of their conditions),
        which is most of the work saved on a selective rule.
        """
        events = store.table("events").filter(lambda t: t.workspace_id == workspace_id)
        keep = [
            events.ts <= ibis.literal(self.now, type=_INSTANT),
            ~events.is_machine.fill_null(False),
            _balanced([a.condition(events) for a in self.aggregates.values()], False),
        ]
        if self._starts and all(start is not None for start in self._starts):
            earliest = min(start for start in self._starts if start is not None)
            keep.append(events.ts >= ibis.literal(earliest, type=_INSTANT))
        if self._types is not None:
            keep.append(events.type.isin(sorted(self._types)))
        e = _stitched(store, workspace_id, events.filter(*keep))
        return e.group_by(**{_KEY: e.contact_id}).aggregate(
            **{name: aggregate.build(e) for name, aggregate in self.aggregates.items()}
        )


def _stitched(store: EventStore, workspace_id: str, events: ir.Table) -> ir.Table:
    """``events`` credited to contacts as ``tracking.identity.stitched_events`` does (the newest
    link of an anonymous id wins), leaving out events of no known contact.

    An event that names its contact keeps it, so only anonymous events look up a link: the
    others join on a null key, which spares the hash join probing for them.
    """
    links = store.table("identities").filter(lambda t: t.workspace_id == workspace_id)
    newest = (
        links.mutate(
            rank=ibis.row_number().over(
                group_by=links.anonymous_id, order_by=ibis.desc(links.linked_at)
            )
        )
        .filter(lambda t: t.rank == 0)
        .select(link_anonymous_id="anonymous_id", linked_contact_id="contact_id")
    )
    lookup = ibis.cases((events.contact_id.isnull(), events.anonymous_id))
    joined = events.left_join(newest, lookup == newest.link_anonymous_id)
    credited = joined.mutate(contact_id=ibis.coalesce(joined.contact_id, joined.linked_contact_id))
    return credited.filter(credited.contact_id.notnull()).drop(
        "link_anonymous_id", "linked_contact_id"
    )


@dataclass(frozen=True)
class _Aggregate:
    """A per-contact aggregate over the events that pass its condition."""

    kind: AggregateKind
    condition: Condition

    def build(self, e: ir.Table) -> ir.Value:
        where = self.condition(e)
        if self.kind == "count":
            return e.count(where=where)
        return e.ts.min(where=where) if self.kind == "first" else e.ts.max(where=where)
