"""Persona references in rules: ``{persona: key}`` rewritten to what it means, before checks."""

from __future__ import annotations

from clarion.audiences.segments.context import SegmentContext
from clarion.audiences.segments.rules import (
    AllOf,
    AnyOf,
    FieldRule,
    NotRule,
    PersonaRule,
    RuleNode,
    SegmentRule,
)


def persona_rule(key: str, segment_key: str | None) -> RuleNode:
    """What ``{persona: key}`` means: the contact is assigned the persona, or is in its segment."""
    assigned = FieldRule(field="persona", op="=", value=key)
    if segment_key is None:
        return assigned
    return AnyOf(any=[assigned, SegmentRule(segment=segment_key)])


def inline_personas(rule: RuleNode, context: SegmentContext) -> RuleNode:
    """The rule with each known persona reference rewritten; unknown ones are left in place
    for validation to report at their path."""

    def inline(node: RuleNode) -> RuleNode:
        if isinstance(node, PersonaRule):
            link = context.resolve_persona(node.persona)
            return node if link is None else persona_rule(link.key, link.segment_key)
        if isinstance(node, AllOf):
            return AllOf(all=[inline(child) for child in node.all])
        if isinstance(node, AnyOf):
            return AnyOf(any=[inline(child) for child in node.any])
        if isinstance(node, NotRule):
            return NotRule(not_=inline(node.not_))
        return node

    return inline(rule)
