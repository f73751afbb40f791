"""Sources: the scoped tables reshaped into rows with the standard dimension columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal

import ibis
import ibis.expr.types as ir

from clarion.analytics.scope import Scoped
from clarion.stores.events import send_facts

SourceName = Literal["sends", "spend", "conversions", "web", "forms", "pipeline", "surveys"]
Dimension = Literal[
    "campaign", "channel", "ad_set", "segment", "persona", "variant", "creative", "day", "week"
]
DIMENSIONS: Final[tuple[Dimension, ...]] = (
    "campaign",
    "channel",
    "ad_set",
    "segment",
    "persona",
    "variant",
    "creative",
    "day",
    "week",
)
NONE: Final = "(none)"  # a dimension the fact does not record, e.g. the variant of ad spend
SESSION_GAP_SECONDS: Final = 30 * 60  # 30 minutes without a page view ends a session

# Event types the dictionary reads. Bounces carry their kind in properties.bounce_type.
EMAIL_OPEN, EMAIL_CLICK = "email_open", "email_click"
EMAIL_BOUNCE, EMAIL_COMPLAINT, UNSUBSCRIBE = "email_bounce", "email_complaint", "unsubscribe"
CONVERSION, PAGE_VIEW = "conversion", "page_view"
FORM_VIEW, FORM_SUBMIT = "form_view", "form_submit"
LIFECYCLE_CHANGE, SURVEY_RESPONSE = "lifecycle_change", "survey_response"  # tracking.vocabulary
# Pipeline order: reaching a stage means reaching every earlier one (a contact created as an MQL
# was a lead too). ``lost`` closes an opportunity without a sale; other stages rank 0.
STAGE_RANK: Final = {"lead": 1, "mql": 2, "sql": 3, "opportunity": 4, "customer": 5}
MESSAGE_EVENTS: Final = (EMAIL_OPEN, EMAIL_CLICK, EMAIL_BOUNCE, EMAIL_COMPLAINT, UNSUBSCRIBE)


def _property(events: ir.Table, name: str) -> ir.StringValue:
    """``properties.<name>`` as text without JSON quotes, the same on every backend.

    DuckDB keeps a JSON string's quotes when it casts to text, ClickHouse and Spark drop
    them; all agree once they are removed (tests/analytics/test_backend_lanes.py).
    """
    text = events.properties.cast("json")[name].cast("string").replace('"', "")
    return text.nullif("")


def _text(value: ir.Value) -> ir.StringValue:
    return value.cast("string").fill_null(NONE)


def _dims(
    *,
    campaign: ir.Value,
    channel: ir.Value,
    day: ir.Value,
    ad_set: ir.Value | None = None,
    segment: ir.Value | None = None,
    persona: ir.Value | None = None,
    variant: ir.Value | None = None,
    creative: ir.Value | None = None,
) -> dict[str, ir.Value]:
    none = ibis.literal(NONE)
    return {
        "campaign": _text(campaign),
        # As stored (null: no campaign), so a filter on it reaches the engine's scan.
        "campaign_ref": campaign.cast("string"),
        "channel": _text(channel),
        "ad_set": none if ad_set is None else _text(ad_set),
        "segment": none if segment is None else _text(segment),
        "persona": none if persona is None else _text(persona),
        "variant": none if variant is None else _text(variant),
        "creative": none if creative is None else _text(creative),
        "day": day,
        "week": day.truncate("W"),
    }


def _with_persona(table: ir.Table, scope: Scoped, dims: frozenset[str]) -> ir.Table:
    """``p_persona`` from the contact mirror, joined only when the persona is asked for."""
    if "persona" not in dims:
        return table.mutate(p_persona=ibis.null("string"))
    personas = scope.contacts.select(p_contact_id="contact_id", p_persona="persona")
    joined = table.left_join(personas, table.contact_id == personas.p_contact_id)
    return joined.drop("p_contact_id")


def _events(scope: Scoped, dims: frozenset[str]) -> ir.Table:
    # Stitching only changes contact_id, which only the persona reads here: skip it otherwise.
    return scope.stitched if "persona" in dims else scope.events


OUTCOMES: Final = tuple(send_facts.OUTCOMES)  # opened, opened_any, clicked... one flag each


def sent_with_outcomes(scope: Scoped) -> ir.Table:
    """Each sent message with its outcome flags, from the raw events (the reference).

    On DuckDB ``scope.send_outcomes()`` gives the same rows from the folded send facts
    (stores.events.send_facts); the tests hold the two equal.
    """
    events = scope.events
    events = events.filter(events.message_id.notnull() & events.type.isin(MESSAGE_EVENTS))
    human = ~events.is_machine.fill_null(False)
    bounce_kind = ibis.ifelse(
        events.type == EMAIL_BOUNCE, _property(events, "bounce_type"), ibis.null("string")
    )
    outcomes = events.group_by(o_message_id=events.message_id).aggregate(
        opened=((events.type == EMAIL_OPEN) & human).any(),
        opened_any=(events.type == EMAIL_OPEN).any(),
        clicked=((events.type == EMAIL_CLICK) & human).any(),
        clicked_any=(events.type == EMAIL_CLICK).any(),
        bounced=(events.type == EMAIL_BOUNCE).any(),
        hard_bounced=(bounce_kind == "hard").any(),
        soft_bounced=(bounce_kind == "soft").any(),
        complained=(events.type == EMAIL_COMPLAINT).any(),
        unsubscribed=(events.type == UNSUBSCRIBE).any(),
    )
    sent = scope.sends.filter(scope.sends.status == "sent")
    joined = sent.left_join(outcomes, sent.message_id == outcomes.o_message_id)
    return joined.select(*sent.columns, **{n: joined[n].fill_null(False) for n in OUTCOMES})


def sends(scope: Scoped, dims: frozenset[str]) -> ir.Table:
    """One row per message sent, with what became of it (opens, clicks, bounces...) as 0/1."""
    folded = scope.send_outcomes()
    sent = folded if folded is not None else sent_with_outcomes(scope)
    joined = _with_persona(sent, scope, dims)
    counts = {name: joined[name].cast("int64") for name in OUTCOMES}
    return joined.select(
        send=joined.message_id,
        contact=joined.contact_id,
        **_dims(
            campaign=joined.campaign_id,
            channel=joined.channel,
            day=joined.sent_at.date(),
            persona=joined.p_persona,
            variant=joined.variant,
            creative=joined.creative_id,
        ),
        **counts,
        delivered=1 - counts["bounced"],
    )


def spend(scope: Scoped, dims: frozenset[str]) -> ir.Table:
    """One row per current ad spend row: impressions, reach, clicks and cost of a day."""
    rows = scope.spend
    return rows.select(
        **_dims(
            campaign=rows.campaign_id,
            channel=rows.channel,
            day=rows.day,
            ad_set=rows.ad_set,
            segment=rows.audience,
            creative=rows.creative_id,
        ),
        impressions=rows.impressions.fill_null(0),
        reach=rows.reach.fill_null(0),
        clicks=rows.clicks.fill_null(0),
        cost=rows.cost.fill_null(0.0),
    )


def conversions(scope: Scoped, dims: frozenset[str]) -> ir.Table:
    """One row per conversion event (counted once per order at capture), with its revenue."""
    events = _events(scope, dims)
    events = events.filter(events.type == CONVERSION)
    joined = _with_persona(events, scope, dims)
    return joined.select(
        **_dims(
            campaign=joined.campaign_id,
            channel=joined.channel,
            day=joined.ts.date(),
            persona=joined.p_persona,
            variant=joined.variant,
        ),
        revenue=joined.revenue.fill_null(0.0),
    )


def web(scope: Scoped, dims: frozenset[str]) -> ir.Table:
    """One row per human page view, with its visitor, session and referral."""
    events = scope.stitched  # a visitor is the contact they were linked to, once linked
    views = events.filter((events.type == PAGE_VIEW) & ~events.is_machine.fill_null(False))
    views = views.mutate(
        visitor=ibis.coalesce(views.contact_id, views.anonymous_id, views.event_id),
        seconds=views.ts.epoch_seconds(),
    )
    previous = views.seconds.lag().over(group_by=views.visitor, order_by=views.ts)
    starts = views.mutate(
        starts=ibis.ifelse(
            previous.isnull() | (views.seconds - previous > SESSION_GAP_SECONDS), 1, 0
        )
    )
    number = starts.starts.sum().over(
        ibis.cumulative_window(group_by=starts.visitor, order_by=starts.ts)
    )
    numbered = _with_persona(starts.mutate(session_number=number), scope, dims)
    external = numbered.referrer_domain.notnull() & ~numbered.referrer_kind.isin(
        ["internal", "direct"]
    )
    return numbered.select(
        **_dims(
            campaign=numbered.campaign_id,
            channel=numbered.channel,
            day=numbered.ts.date(),
            persona=numbered.p_persona,
            variant=numbered.variant,
        ),
        visitor=numbered.visitor,
        session=numbered.visitor + ":" + numbered.session_number.cast("string"),
        referring_domain=ibis.ifelse(external, numbered.referrer_domain, ibis.null("string")),
        seconds=numbered.seconds,
        from_search=(numbered.referrer_kind == "search").fill_null(False).cast("int64"),
    )


def forms(scope: Scoped, dims: frozenset[str]) -> ir.Table:
    """One row per form view or form submit."""
    events = _events(scope, dims)
    events = events.filter(events.type.isin([FORM_VIEW, FORM_SUBMIT]))
    joined = _with_persona(events, scope, dims)
    return joined.select(
        **_dims(
            campaign=joined.campaign_id,
            channel=joined.channel,
            day=joined.ts.date(),
            persona=joined.p_persona,
            variant=joined.variant,
        ),
        viewed=(joined.type == FORM_VIEW).cast("int64"),
        submitted=(joined.type == FORM_SUBMIT).cast("int64"),
    )


def pipeline(scope: Scoped, dims: frozenset[str]) -> ir.Table:
    """One row per ``lifecycle_change`` event: the person, the stage reached, its rank, amount."""
    events = _events(scope, dims)
    events = events.filter(events.type == LIFECYCLE_CHANGE)
    joined = _with_persona(events, scope, dims)
    stage = _property(joined, "stage")
    rank = ibis.cases(*((stage == name, value) for name, value in STAGE_RANK.items()), else_=0)
    amount = _property(joined, "amount").cast("float64").fill_null(0.0)
    return joined.select(
        **_dims(
            campaign=joined.campaign_id,
            channel=joined.channel,
            day=joined.ts.date(),
            persona=joined.p_persona,
            variant=joined.variant,
        ),
        person=ibis.coalesce(joined.contact_id, joined.anonymous_id, joined.event_id),
        stage=stage,
        rank=rank,
        opened_amount=ibis.ifelse(stage == "opportunity", amount, 0.0),
        closed_amount=ibis.ifelse(stage.isin(["customer", "lost"]), amount, 0.0),
    )


def surveys(scope: Scoped, dims: frozenset[str]) -> ir.Table:
    """One row per ``survey_response``: satisfied (1) when the score is in the top two boxes."""
    events = _events(scope, dims)
    events = events.filter(events.type == SURVEY_RESPONSE)
    joined = _with_persona(events, scope, dims)
    score = _property(joined, "score").cast("float64")
    scale = _property(joined, "scale").cast("float64").fill_null(5.0)
    return joined.select(
        **_dims(
            campaign=joined.campaign_id,
            channel=joined.channel,
            day=joined.ts.date(),
            persona=joined.p_persona,
            variant=joined.variant,
        ),
        satisfied=(score >= scale - 1).fill_null(False).cast("int64"),
    )


SOURCES: Final[dict[SourceName, Callable[[Scoped, frozenset[str]], ir.Table]]] = {
    "sends": sends,
    "spend": spend,
    "conversions": conversions,
    "web": web,
    "forms": forms,
    "pipeline": pipeline,
    "surveys": surveys,
}
