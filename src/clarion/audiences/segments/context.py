"""What a rule is checked and compiled against: attribute types, other segments, thresholds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from clarion.audiences.segments.engagement import EngagementThresholds
from clarion.audiences.segments.fields import AttributeType
from clarion.audiences.segments.rules import RuleNode

SegmentResolver = Callable[[str], RuleNode | None]


@dataclass(frozen=True)
class PersonaLink:
    """A persona as rules see it: its key and the segment that finds its members, if any."""

    key: str
    segment_key: str | None = None


PersonaResolver = Callable[[str], PersonaLink | None]


def no_segments(key: str) -> RuleNode | None:
    """The resolver of a workspace without stored segments: every reference is unknown."""
    return None


def no_personas(key: str) -> PersonaLink | None:
    """The resolver of a workspace without personas: every persona reference is unknown."""
    return None


@dataclass(frozen=True)
class SegmentContext:
    """The workspace facts a rule depends on.

    ``attribute_types`` declares the custom attributes (``attributes.<name>``) and their types;
    ``resolve_segment`` returns the rule of another segment by key (None if there is none);
    ``segment_key`` is the key of the segment being defined, so a reference back to it is
    caught as a cycle before it is stored; ``resolve_persona`` returns a persona by key.
    """

    attribute_types: Mapping[str, AttributeType] = field(default_factory=dict)
    resolve_segment: SegmentResolver = no_segments
    segment_key: str | None = None
    engagement: EngagementThresholds = field(default_factory=EngagementThresholds)
    resolve_persona: PersonaResolver = no_personas
