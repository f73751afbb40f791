"""The metric dictionary: each metric defined once, as a numerator and a denominator of sums."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import ibis
import ibis.expr.types as ir

from clarion.analytics.sources import SourceName
from clarion.core.metrics import METRICS, MetricName, Unit

Value = Callable[[ir.Table], ir.NumericValue]


@dataclass(frozen=True)
class Measure:
    """What one unit of a source contributes: a row's value, or an aggregate over a unit's rows.

    ``unit`` names the column that groups rows into units (a session, a visitor); ``None``
    makes every row a unit, and ``value`` is then a per-row expression.
    """

    source: SourceName
    unit: str | None
    value: Value
    text: str  # for people: "clicks reported by the ad platforms"


@dataclass(frozen=True)
class MetricDefinition:
    """One metric: Σ numerator / Σ denominator × scale + offset over the units of a group.

    Without a denominator the metric is the total Σ numerator × scale + offset.
    """

    name: str
    counts: str  # which events or rows it counts, in a sentence
    numerator: Measure
    denominator: Measure | None = None
    scale: float = 1.0
    offset: float = 0.0

    @property
    def meta(self) -> MetricName:
        """Name, unit, good direction and meaning from the shared vocabulary."""
        return METRICS[self.name]

    @property
    def unit(self) -> Unit:
        return self.meta.unit

    @property
    def additive(self) -> bool:
        """A total that grows over a campaign's life (clicks, cost), not a ratio or a rate."""
        return self.denominator is None

    @property
    def same_units(self) -> bool:
        """Numerator and denominator are read from the same units (so is their covariance)."""
        den = self.denominator
        return den is None or (
            den.source == self.numerator.source and den.unit == self.numerator.unit
        )


def _column(source: SourceName, column: str, text: str) -> Measure:
    return Measure(source, None, lambda t: t[column], text)


def _each(source: SourceName, unit: str | None, text: str) -> Measure:
    """1 per unit: the measure that counts units (rows, sessions, visitors)."""
    if unit is None:
        return Measure(source, None, lambda t: ibis.literal(1, type="int64"), text)
    return Measure(source, unit, lambda t: (t.count() > 0).cast("int64"), text)


def _any(source: SourceName, unit: str, column: str, text: str) -> Measure:
    return Measure(source, unit, lambda t: t[column].max(), text)


# Paid: ad platforms report delivery and cost per day; conversions are Clarion's own events.
IMPRESSIONS = _column("spend", "impressions", "impressions reported by the ad platforms")
REACH = _column("spend", "reach", "daily reach reported by the ad platforms, added up")
AD_CLICKS = _column("spend", "clicks", "clicks reported by the ad platforms")
COST = _column("spend", "cost", "cost reported by the ad platforms")
CONVERSIONS = _each("conversions", None, "conversion events (once per order)")
REVENUE = _column("conversions", "revenue", "revenue of conversion events")
# Email: one unit per message sent; what became of it is 0/1 per send.
SENT = _each("sends", None, "messages sent (status sent)")
DELIVERED = _column("sends", "delivered", "sends without a bounce")
OPENED = _column("sends", "opened", "sends with a human open")
OPENED_ANY = _column("sends", "opened_any", "sends with any open, machine opens included")
CLICKED = _column("sends", "clicked", "sends with a human click")
CLICKED_ANY = _column("sends", "clicked_any", "sends with any click, machine clicks included")
HARD = _column("sends", "hard_bounced", "sends with a hard bounce")
SOFT = _column("sends", "soft_bounced", "sends with a soft bounce")
UNSUBSCRIBED = _column("sends", "unsubscribed", "sends followed by an unsubscribe")
COMPLAINED = _column("sends", "complained", "sends reported as spam")
FORM_VIEWS = _column("forms", "viewed", "form_view events")
FORM_SUBMITS = _column("forms", "submitted", "form_submit events")
# Web: human page views, grouped into sessions (30 minutes) and visitors.
PAGE_VIEWS = _each("web", None, "human page views")
SESSIONS = _each("web", "session", "sessions")
VISITORS = _each("web", "visitor", "visitors (contact, else anonymous id)")
RETURNING = Measure(
    "web", "visitor", lambda t: (t.day.nunique() > 1).cast("int64"), "visitors seen on 2+ days"
)
BOUNCED = Measure("web", "session", lambda t: (t.count() == 1).cast("int64"), "1-page sessions")
FROM_SEARCH = _any("web", "session", "from_search", "sessions referred by a search engine")
DURATION = Measure(
    "web", "session", lambda t: t.seconds.max() - t.seconds.min(), "seconds first to last view"
)
DOMAINS = Measure(
    "web",
    "referring_domain",
    lambda t: t.referring_domain.notnull().any().cast("int64"),
    "distinct external referring domains",
)


# Pipeline: lifecycle_change events; a unit is a person, 1 if they reached the stage in the group.
def _changed_to(stage: str) -> Measure:
    return Measure(
        "pipeline",
        "person",
        lambda t: (t.stage == stage).any().cast("int64"),
        f"people whose stage became {stage}",
    )


def _reached(rank: int, text: str) -> Measure:
    return Measure("pipeline", "person", lambda t: (t.rank >= rank).any().cast("int64"), text)


NEW_LEADS, MQLS, SQLS = _changed_to("lead"), _changed_to("mql"), _changed_to("sql")
CUSTOMERS, LOST = _changed_to("customer"), _changed_to("lost")
CLOSED = Measure(
    "pipeline",
    "person",
    lambda t: t.stage.isin(["customer", "lost"]).any().cast("int64"),
    "people whose opportunity closed (customer or lost)",
)
AT_LEAST_LEAD = _reached(1, "people who reached lead or a later stage")
AT_LEAST_MQL = _reached(2, "people who reached mql or a later stage")
AT_LEAST_SQL = _reached(3, "people who reached sql or a later stage")
AT_LEAST_CUSTOMER = _reached(5, "people who became customers")
OPENED_VALUE = _column("pipeline", "opened_amount", "amount of opportunities opened")
CLOSED_VALUE = _column("pipeline", "closed_amount", "amount of opportunities closed")
# Value: revenue over the contacts a campaign messaged; satisfaction from survey responses.
CONTACTS_REACHED = _each("sends", "contact", "contacts with a message sent")
RESPONSES = _each("surveys", None, "survey_response events")
SATISFIED = _column("surveys", "satisfied", "responses in the top two boxes of their scale")


def _d(
    name: str,
    counts: str,
    numerator: Measure,
    denominator: Measure | None = None,
    *,
    scale: float = 1.0,
    offset: float = 0.0,
) -> MetricDefinition:
    return MetricDefinition(name, counts, numerator, denominator, scale, offset)


DEFINITIONS: Final[dict[str, MetricDefinition]] = {
    d.name: d
    for d in [
        # paid
        _d("impressions", "ad_spend.impressions", IMPRESSIONS),
        _d("reach", "ad_spend.reach (daily, so a person reached on 2 days counts twice)", REACH),
        _d("clicks", "ad_spend.clicks", AD_CLICKS),
        _d("cost", "ad_spend.cost", COST),
        _d("ctr", "ad clicks / impressions", AD_CLICKS, IMPRESSIONS),
        _d("cpc", "cost / ad clicks", COST, AD_CLICKS),
        _d("cpm", "1000 × cost / impressions", COST, IMPRESSIONS, scale=1000.0),
        _d("conversions", "conversion events", CONVERSIONS),
        _d("conversion_rate", "conversion events / ad clicks", CONVERSIONS, AD_CLICKS),
        _d("cpa", "cost / conversion events", COST, CONVERSIONS),
        _d("revenue", "revenue of conversion events", REVENUE),
        _d("roas", "revenue / cost", REVENUE, COST),
        _d("roi", "(revenue − cost) / cost", REVENUE, COST, offset=-1.0),
        # email
        _d("sent", "message_sends with status sent", SENT),
        _d("delivered", "sends without an email_bounce", DELIVERED),
        _d("open_rate", "sends with a human email_open / delivered", OPENED, DELIVERED),
        _d("open_rate_all", "sends with any email_open / delivered", OPENED_ANY, DELIVERED),
        _d("click_rate", "sends with a human email_click / delivered", CLICKED, DELIVERED),
        _d("click_rate_all", "sends with any email_click / delivered", CLICKED_ANY, DELIVERED),
        _d("ctor", "sends with a human click / sends with a human open", CLICKED, OPENED),
        _d("hard_bounce_rate", "sends with a hard email_bounce / sent", HARD, SENT),
        _d("soft_bounce_rate", "sends with a soft email_bounce / sent", SOFT, SENT),
        _d("unsubscribe_rate", "sends with an unsubscribe / delivered", UNSUBSCRIBED, DELIVERED),
        _d("complaint_rate", "sends with an email_complaint / delivered", COMPLAINED, DELIVERED),
        _d("form_conversion_rate", "form_submit / form_view events", FORM_SUBMITS, FORM_VIEWS),
        # web
        _d("unique_visitors", "distinct visitors with a human page_view", VISITORS),
        _d("returning_visitors", "visitors with page views on 2+ days", RETURNING),
        _d("page_views", "human page_view events", PAGE_VIEWS),
        _d("sessions", "sessions of human page views", SESSIONS),
        _d("bounce_rate", "1-page sessions / sessions", BOUNCED, SESSIONS),
        _d("search_engine_share", "search-referred sessions / sessions", FROM_SEARCH, SESSIONS),
        _d("referring_domains", "distinct external referrer domains of page views", DOMAINS),
        _d("time_on_site", "mean seconds from first to last view of a session", DURATION, SESSIONS),
        # pipeline
        _d("new_leads", "people with a lifecycle_change to lead", NEW_LEADS),
        _d("mqls", "people with a lifecycle_change to mql", MQLS),
        _d("sqls", "people with a lifecycle_change to sql", SQLS),
        _d("customers", "people with a lifecycle_change to customer", CUSTOMERS),
        _d(
            "lead_to_mql_rate", "people reaching mql+ / reaching lead+", AT_LEAST_MQL, AT_LEAST_LEAD
        ),
        _d("mql_to_sql_rate", "people reaching sql+ / reaching mql+", AT_LEAST_SQL, AT_LEAST_MQL),
        _d(
            "sql_to_customer_rate",
            "people becoming customers / reaching sql+",
            AT_LEAST_CUSTOMER,
            AT_LEAST_SQL,
        ),
        _d(
            "win_rate",
            "people won (customer) / people closed (customer or lost)",
            CUSTOMERS,
            CLOSED,
        ),
        _d(
            "pipeline_growth",
            "amount opened / amount closed − 1 (opportunity vs customer or lost changes)",
            OPENED_VALUE,
            CLOSED_VALUE,
            offset=-1.0,
        ),
        # value
        _d(
            "revenue_per_contact",
            "revenue of conversions / contacts messaged (day cells)",
            REVENUE,
            CONTACTS_REACHED,
        ),
        _d("csat", "survey responses in the top two boxes / responses", SATISFIED, RESPONSES),
    ]
}

# Names in the vocabulary the dictionary cannot compute yet, and why (shown to people).
NOT_DEFINED: Final[dict[str, str]] = {
    "clv": "a fitted model, not a sum over units: see analytics.service.customer_value",
}


def definition(name: str) -> MetricDefinition | None:
    """The definition of ``name``, or None if the vocabulary knows it but analytics cannot yet."""
    return DEFINITIONS.get(name)
