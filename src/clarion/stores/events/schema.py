"""Event store tables: one Ibis schema per table, its required columns and its stamp column."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

import ibis
import ibis.expr.datatypes as dt

# Money columns (``events.revenue``, ``ad_spend.cost``) are float64, not decimal: the store
# feeds analytics sums and ratios (ROAS, CPA) that must compute the same on DuckDB, ClickHouse
# and Spark, whose decimal scale and division rules differ; exact amounts (budgets, targets)
# live in the app store as ``core.money.Money``. Writers round amounts to the currency's minor
# units before appending, so float64 represents them to well below a cent.
MONEY: Final = "float64"
# JSON columns hold a JSON-encoded string: every backend stores and parses text, while native
# JSON/MAP types differ between engines. Appending a dict or list encodes it.
JSON: Final = "string"
# Every instant is UTC: DuckDB TIMESTAMPTZ, ClickHouse DateTime64(6, 'UTC'), Spark TIMESTAMP.
INSTANT: Final = "timestamp('UTC')"


@dataclass(frozen=True)
class TableSpec:
    """One event store table: columns with types, the columns a row must have, the stamp."""

    name: str
    columns: dict[str, str]  # column -> Ibis type; "!" prefix marks NOT NULL
    required: frozenset[str]  # must be present and non-null in every appended row
    stamp: str | None = None  # filled with the append time when a row leaves it out
    json_columns: frozenset[str] = frozenset()

    @cached_property
    def schema(self) -> ibis.Schema:
        """The Ibis schema, as created in every backend."""
        return ibis.schema(self.columns)

    @cached_property
    def types(self) -> dict[str, dt.DataType]:
        """Column name -> Ibis data type."""
        return dict(self.schema.items())

    @cached_property
    def arrow_schema(self) -> Any:
        """The pyarrow schema a batch is converted to before it is written."""
        return self.schema.to_pyarrow()


EVENTS = TableSpec(
    name="events",
    columns={
        "event_id": "!string",  # unique per workspace; set by the sender, ingestion dedups on it
        "workspace_id": "!string",  # tenant; analytics scopes every query by it in one place
        "type": "!string",  # what happened: page_view, email_open, click, conversion, bounce...
        "ts": "!" + INSTANT,  # when it happened, as reported by the client or provider
        "received_at": "!" + INSTANT,  # when Clarion stored it; stamped by the store if absent
        "contact_id": "string",  # known contact, if identified at event time
        "anonymous_id": "string",  # browser/device id before identification (stitched later)
        "campaign_id": "string",  # campaign the event is attributed to at capture, if any
        "message_id": "string",  # the send an open, click or bounce belongs to (message_sends)
        "channel": "string",  # email, sms, push, search, social, display, web...
        "variant": "string",  # experiment arm or creative variant shown
        "url": "string",  # page or link target
        "referrer": "string",  # HTTP referrer of a page view
        "referrer_kind": "string",  # search, social, email, paid, direct, internal, other
        "referrer_domain": "string",  # referring site, for "referring domains"
        "device": "string",  # desktop, mobile, tablet, bot, unknown (from the user agent)
        "is_machine": "boolean",  # a proxy, scanner or bot did it, not a person: rates exclude it
        "utm_source": "string",  # UTM parameters as captured from the landing URL
        "utm_medium": "string",
        "utm_campaign": "string",
        "utm_term": "string",
        "utm_content": "string",
        "revenue": MONEY,  # conversion value in ``currency`` (float64: see MONEY above)
        "currency": "string",  # ISO 4217 code of ``revenue``
        "properties": JSON,  # anything else the event carries, JSON-encoded
    },
    required=frozenset({"event_id", "workspace_id", "type", "ts"}),
    stamp="received_at",
    json_columns=frozenset({"properties"}),
)

MESSAGE_SENDS = TableSpec(
    name="message_sends",
    columns={
        "message_id": "!string",  # the outbox row's id, also the send's idempotency key
        "workspace_id": "!string",  # tenant
        "campaign_id": "string",  # campaign that sent it (null for transactional journeys)
        "contact_id": "!string",  # recipient
        "channel": "!string",  # email, sms, push, webhook...
        "variant": "string",  # experiment arm or content variant sent
        "creative_id": "string",  # asset or template that was rendered
        "step": "string",  # journey step or campaign wave the send belongs to
        "sent_at": "!" + INSTANT,  # when the provider accepted (or refused) it
        "provider_id": "string",  # the provider's id, e.g. the SMTP Message-ID
        "status": "!string",  # sent, failed, suppressed
        "error": "string",  # why it failed, when it failed
    },
    required=frozenset(
        {"message_id", "workspace_id", "contact_id", "channel", "sent_at", "status"}
    ),
)

AD_SPEND = TableSpec(
    name="ad_spend",
    columns={
        "workspace_id": "!string",  # tenant
        "day": "!date",  # reporting day in the ad platform's account time zone
        "campaign_id": "string",  # Clarion campaign the spend belongs to
        "channel": "!string",  # search, social, display... (the platform is ``source``)
        "ad_set": "string",  # platform ad set / ad group
        "audience": "string",  # targeted audience or segment
        "creative_id": "string",  # ad creative
        "impressions": "int64",  # as reported by the platform
        "reach": "int64",  # unique people reached that day (not additive across days)
        "clicks": "int64",
        "cost": MONEY,  # spend in ``currency`` (float64: see MONEY above)
        "currency": "string",  # ISO 4217 code of ``cost``
        "conversions": "int64",  # platform-reported conversions; Clarion's own come from events
        "imported_at": "!" + INSTANT,  # when this row was imported; stamped by the store
        "source": "!string",  # adapter or file it came from, e.g. simulated_ads, csv:june.csv
    },
    required=frozenset({"workspace_id", "day", "channel", "source"}),
    stamp="imported_at",
)

IDENTITIES = TableSpec(
    name="identities",
    columns={
        "workspace_id": "!string",  # tenant
        "anonymous_id": "!string",  # browser/device id seen before identification
        "contact_id": "!string",  # contact it was stitched to
        "linked_at": "!" + INSTANT,  # when the link was made; stamped by the store if absent
        "source": "!string",  # identify call, form submit, click token, import...
    },
    required=frozenset({"workspace_id", "anonymous_id", "contact_id", "source"}),
    stamp="linked_at",
)

CONTACTS = TableSpec(
    # A mirror of the app store's contacts for joins, with no plaintext PII. Append-only like
    # every table here: an update appends a new version and the newest ``updated_at`` wins.
    name="contacts",
    columns={
        "workspace_id": "!string",  # tenant
        "contact_id": "!string",  # the app store's contact id
        "email_hash": "string",  # SHA-256 of the normalised email, for customer-match exports
        "country": "string",  # ISO 3166-1 alpha-2
        "region": "string",  # ISO 3166-2 subdivision or free region name
        "city": "string",
        "persona": "string",  # persona key the contact is assigned to
        "lifecycle_stage": "string",  # subscriber, lead, mql, sql, customer...
        "funnel_stage": "string",  # awareness, consideration, decision... (scoring fills it)
        "lead_score": "float64",  # current lead score (scoring fills it)
        "consents": JSON,  # granted "purpose:channel" pairs, e.g. ["marketing:email"]
        "suppressed": "boolean",  # on the suppression list (bounce, complaint, unsubscribe...)
        "erased": "boolean",  # personal data erased on request: never targeted again
        "created_at": INSTANT,  # when the contact was created (signup cohorts)
        "attributes": JSON,  # other segmentable attributes, JSON-encoded
        "updated_at": "!" + INSTANT,  # version time of this row; stamped by the store if absent
    },
    required=frozenset({"workspace_id", "contact_id"}),
    stamp="updated_at",
    json_columns=frozenset({"attributes", "consents"}),
)

SEGMENT_TRANSITIONS = TableSpec(
    # Materialised segment membership: a contact entering or leaving a stored segment, found by
    # a refresh at ``ts``. The newest transition of a (segment, contact) is its current state.
    name="segment_transitions",
    columns={
        "workspace_id": "!string",  # tenant
        "segment_id": "!string",  # the app store's segment id
        "contact_id": "!string",
        "change": "!string",  # entered | exited
        "ts": "!" + INSTANT,  # the refresh instant (the evaluation's now)
        "segment_version": "int64",  # the segment's version the refresh evaluated
        "recorded_at": "!" + INSTANT,  # when the refresh wrote it; stamped by the store
    },
    required=frozenset({"workspace_id", "segment_id", "contact_id", "change", "ts"}),
    stamp="recorded_at",
)

TABLES: Final[dict[str, TableSpec]] = {
    spec.name: spec
    for spec in (EVENTS, MESSAGE_SENDS, AD_SPEND, IDENTITIES, CONTACTS, SEGMENT_TRANSITIONS)
}
