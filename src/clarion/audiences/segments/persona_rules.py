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
    return inline_personas_at(rule, context, "rule")[0]


def inline_personas_at(
    rule: RuleNode, context: SegmentContext, root: str
) -> tuple[RuleNode, list[str]]:
    """``inline_personas``, with the paths (under ``root``) of the references it rewrote, so
    problems found inside a rewrite are reported at the reference."""
    rewritten: list[str] = []

    def inline(node: RuleNode, path: str) -> RuleNode:
        if isinstance(node, PersonaRule):
            link = context.resolve_persona(node.persona)
            if link is None:
                return node
            rewritten.append(path)
            return persona_rule(link.key, link.segment_key)
        if isinstance(node, AllOf):
            return AllOf(all=[inline(c, f"{path}.all[{i}]") for i, c in enumerate(node.all)])
        if isinstance(node, AnyOf):
            return AnyOf(any=[inline(c, f"{path}.any[{i}]") for i, c in enumerate(node.any)])
        if isinstance(node, NotRule):
            return NotRule(not_=inline(node.not_, f"{path}.not"))
        return node

    return inline(rule, root), rewritten


def at_reference(path: str, rewritten: list[str]) -> str:
    """``path`` moved up to the persona reference it lies inside, if any (``….persona``)."""
    for reference in rewritten:
        if path == reference or path.startswith((f"{reference}.", f"{reference}[")):
            return f"{reference}.persona"
    return path
