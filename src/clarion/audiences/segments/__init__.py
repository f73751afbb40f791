"""Segments: rule trees over contacts and their behaviour, compiled to one Ibis expression."""

from clarion.audiences.segments.compile import segment_contacts
from clarion.audiences.segments.context import SegmentContext, SegmentResolver, no_segments
from clarion.audiences.segments.engagement import EngagementThresholds
from clarion.audiences.segments.fields import (
    CONTACT_FIELDS,
    EVENT_FIELDS,
    OPERATORS_BY_TYPE,
    AttributeType,
    FieldType,
)
from clarion.audiences.segments.preview import SegmentPreview, preview
from clarion.audiences.segments.reference import reference_members
from clarion.audiences.segments.rules import (
    LEVELS,
    MAX_DEPTH,
    MAX_NODES,
    OPERATORS,
    Rule,
    RuleNode,
    SegmentDefinition,
    parse_rule,
    parse_segment,
    rule_to_data,
    segment_to_data,
)
from clarion.audiences.segments.text import load_json, load_yaml
from clarion.audiences.segments.validate import rule_problems, validate_rule

__all__ = [
    "CONTACT_FIELDS",
    "EVENT_FIELDS",
    "LEVELS",
    "MAX_DEPTH",
    "MAX_NODES",
    "OPERATORS",
    "OPERATORS_BY_TYPE",
    "AttributeType",
    "EngagementThresholds",
    "FieldType",
    "Rule",
    "RuleNode",
    "SegmentContext",
    "SegmentDefinition",
    "SegmentPreview",
    "SegmentResolver",
    "load_json",
    "load_yaml",
    "no_segments",
    "parse_rule",
    "parse_segment",
    "preview",
    "reference_members",
    "rule_problems",
    "rule_to_data",
    "segment_contacts",
    "segment_to_data",
    "validate_rule",
]
