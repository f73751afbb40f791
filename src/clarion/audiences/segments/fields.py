"""The catalogue of segmentable fields: contact mirror columns, attributes, event fields."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

FieldType: TypeAlias = Literal["string", "number", "boolean", "date", "set"]
AttributeType: TypeAlias = Literal["string", "number", "boolean", "date"]
# Where a field's value comes from: a mirror column, a key of the ``attributes`` JSON, the
# contact's activity (first/last seen), an event column, or a key of the event ``properties``.
Source: TypeAlias = Literal["column", "attribute", "activity", "event_column", "property"]

ATTRIBUTE_PREFIX: Final = "attributes."
PROPERTY_PREFIX: Final = "properties."
# Attribute and property names become JSON paths: no dots, quotes or brackets in them. The
# contact importer makes attribute names like ``company_size`` or ``2fa_enabled``.
NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")

OPERATORS_BY_TYPE: Final[dict[FieldType, tuple[str, ...]]] = {
    "string": ("=", "!=", "in", "contains", "starts_with", "is_set"),
    "number": ("=", "!=", "<", "<=", ">", ">=", "in", "between", "is_set"),
    "boolean": ("=", "!=", "is_set"),
    "date": ("<", "<=", ">", ">=", "between", "is_set"),
    "set": ("contains", "is_set"),
}


@dataclass(frozen=True)
class FieldSpec:
    """One segmentable field: its type and where its value comes from."""

    name: str  # as written in a rule, e.g. ``country`` or ``attributes.plan``
    type: FieldType
    source: Source
    key: str  # the column, attribute or property name, or ``first``/``last`` for activity
    null_is_false: bool = False  # a missing boolean means false (``suppressed``)


def _columns(source: Source, types: Mapping[str, FieldType]) -> dict[str, FieldSpec]:
    return {name: FieldSpec(name, kind, source, name) for name, kind in types.items()}


CONTACT_FIELDS: Final[dict[str, FieldSpec]] = {
    **_columns(
        "column",
        {
            "country": "string",
            "region": "string",
            "city": "string",
            "persona": "string",
            "lifecycle_stage": "string",
            "funnel_stage": "string",
            "lead_score": "number",
            "created_at": "date",
            "consents": "set",
        },
    ),
    "suppressed": FieldSpec("suppressed", "boolean", "column", "suppressed", null_is_false=True),
    # The first and last activity (see engagement.py for what counts as activity).
    "first_seen": FieldSpec("first_seen", "date", "activity", "first"),
    "last_seen": FieldSpec("last_seen", "date", "activity", "last"),
}

EVENT_FIELDS: Final[dict[str, FieldSpec]] = {
    **_columns(
        "event_column",
        dict.fromkeys(
            (
                "channel",
                "campaign_id",
                "message_id",
                "variant",
                "url",
                "referrer",
                "referrer_kind",
                "referrer_domain",
                "device",
                "utm_source",
                "utm_medium",
                "utm_campaign",
                "utm_term",
                "utm_content",
                "currency",
            ),
            "string",
        ),
    ),
    "revenue": FieldSpec("revenue", "number", "event_column", "revenue"),
}


def contact_field(name: str, attribute_types: Mapping[str, AttributeType]) -> FieldSpec | None:
    """The contact field a rule names, or None: a mirror column or a declared attribute."""
    if name in CONTACT_FIELDS:
        return CONTACT_FIELDS[name]
    if name.startswith(ATTRIBUTE_PREFIX):
        key = name.removeprefix(ATTRIBUTE_PREFIX)
        kind = attribute_types.get(key)
        if kind is not None and NAME.match(key):
            return FieldSpec(name, kind, "attribute", key)
    return None


def event_field(name: str, value_type: FieldType | None) -> FieldSpec | None:
    """The event field a ``where`` filter names, or None.

    Properties are free-form JSON with no declared types, so a property is read as the type of
    the value it is compared with (``string`` when only ``is_set`` is asked).
    """
    if name in EVENT_FIELDS:
        return EVENT_FIELDS[name]
    if name.startswith(PROPERTY_PREFIX):
        key = name.removeprefix(PROPERTY_PREFIX)
        if NAME.match(key):
            return FieldSpec(name, value_type or "string", "property", key)
    return None


def known_contact_fields(attribute_types: Mapping[str, AttributeType]) -> list[str]:
    """Every contact field name a rule may use, for error messages."""
    declared = [f"{ATTRIBUTE_PREFIX}{key}" for key in sorted(attribute_types)]
    return [*CONTACT_FIELDS, *declared]
