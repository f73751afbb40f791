"""The metric vocabulary: every KPI name a plan may target, its unit and its good direction.

The analytics slice compiles these names to queries; plans and reports only need the vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Unit(StrEnum):
    """What kind of number a metric is."""

    COUNT = "count"  # people, events, visits
    RATE = "rate"  # a proportion in [0, 1], shown as a percentage
    MONEY = "money"  # in the campaign currency
    RATIO = "ratio"  # value per cost, e.g. ROAS 3.2
    SECONDS = "seconds"


class Direction(StrEnum):
    """Whether more of the metric is better or worse."""

    HIGHER = "higher"
    LOWER = "lower"


@dataclass(frozen=True)
class MetricName:
    """A metric's name, unit, good direction and one-line meaning."""

    name: str
    unit: Unit
    better: Direction
    description: str


def _m(name: str, unit: Unit, better: Direction, description: str) -> MetricName:
    return MetricName(name, unit, better, description)


C, R, M, X, S = Unit.COUNT, Unit.RATE, Unit.MONEY, Unit.RATIO, Unit.SECONDS
HI, LO = Direction.HIGHER, Direction.LOWER

METRICS: dict[str, MetricName] = {
    m.name: m
    for m in [
        # paid
        _m("impressions", C, HI, "ad impressions served"),
        _m("reach", C, HI, "distinct people who saw an ad"),
        _m("clicks", C, HI, "ad or link clicks"),
        _m("ctr", R, HI, "clicks per impression"),
        _m("cpc", M, LO, "cost per click"),
        _m("cpm", M, LO, "cost per thousand impressions"),
        _m("cost", M, LO, "money spent"),
        _m("conversions", C, HI, "conversions (orders, sign-ups, goals)"),
        _m("conversion_rate", R, HI, "conversions per click"),
        _m("cpa", M, LO, "cost per acquisition (cost per conversion)"),
        _m("revenue", M, HI, "revenue attributed to the campaign"),
        _m("roas", X, HI, "return on ad spend: revenue per unit of cost"),
        _m("roi", X, HI, "return on investment: (revenue - cost) / cost"),
        # email
        _m("sent", C, HI, "messages handed to the mail server"),
        _m("delivered", C, HI, "messages sent and not bounced"),
        _m("open_rate", R, HI, "unique human opens per delivered (machine opens excluded)"),
        _m("open_rate_all", R, HI, "unique opens per delivered, machine opens included"),
        _m("click_rate", R, HI, "unique human clickers per delivered"),
        _m("click_rate_all", R, HI, "unique clickers per delivered, machine clicks included"),
        _m("ctor", R, HI, "click-to-open rate: clickers per opener"),
        _m("hard_bounce_rate", R, LO, "hard bounces per sent"),
        _m("soft_bounce_rate", R, LO, "soft bounces per sent"),
        _m("unsubscribe_rate", R, LO, "unsubscribes per delivered"),
        _m("complaint_rate", R, LO, "spam complaints per delivered"),
        _m("form_conversion_rate", R, HI, "form submits per form view"),
        # web
        _m("unique_visitors", C, HI, "distinct visitors"),
        _m("returning_visitors", C, HI, "visitors seen on more than one day"),
        _m("page_views", C, HI, "page views"),
        _m("sessions", C, HI, "visits (30 minutes of inactivity ends one)"),
        _m("bounce_rate", R, LO, "single-page sessions per session"),
        _m("search_engine_share", R, HI, "sessions referred by a search engine"),
        _m("referring_domains", C, HI, "distinct external domains that sent visitors"),
        _m("time_on_site", S, HI, "mean session duration"),
        # pipeline
        _m("new_leads", C, HI, "contacts who became leads"),
        _m("mqls", C, HI, "marketing-qualified leads"),
        _m("sqls", C, HI, "sales-qualified leads"),
        _m("customers", C, HI, "leads who became customers"),
        _m("lead_to_mql_rate", R, HI, "leads who became MQLs"),
        _m("mql_to_sql_rate", R, HI, "MQLs who became SQLs"),
        _m("sql_to_customer_rate", R, HI, "SQLs who became customers"),
        _m("pipeline_growth", R, HI, "growth of open pipeline value over the period"),
        _m("win_rate", R, HI, "opportunities won per opportunity closed"),
        # value
        _m("revenue_per_contact", M, HI, "revenue per reached contact"),
        _m("clv", M, HI, "customer lifetime value"),
        _m("csat", R, HI, "share of satisfied survey responses"),
    ]
}


def metric(name: str) -> MetricName:
    """The metric called ``name``; KeyError if Clarion does not know it."""
    return METRICS[name]
