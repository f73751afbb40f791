"""Routes for journeys and value: a campaign's funnel, cohorts, paths and attribution; CLV."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Query

from clarion.analytics import service
from clarion.analytics.attribution import MODELS
from clarion.analytics.parameters import parse_span, parse_steps
from clarion.analytics.paths import Label
from clarion.analytics.render_journeys import (
    attribution_json,
    clv_json,
    cohorts_json,
    funnel_json,
    paths_json,
    people_json,
)
from clarion.api.deps import InstanceDep, SecretKeyDep
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.instance import Instance
from clarion.stores.events import EventStore

router = APIRouter(tags=["analysis"])

ModelChoice = Literal[
    "all", "first_touch", "last_touch", "linear", "time_decay", "position_based", "markov"
]
LabelQuery = Annotated[
    Label, Query(description=f"what a touch is labelled by: {', '.join(get_args(Label))}")
]
SinceQuery = Annotated[
    datetime | None,
    Query(description="first instant counted (ISO 8601); default the campaign's first day"),
]
UntilQuery = Annotated[datetime | None, Query(description="instant counting stops (ISO 8601)")]


def _events(instance: Instance) -> EventStore:
    if instance.events is None:
        raise RuntimeError("this server does not own the event store")
    return instance.events


def _aware(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        problem = FieldProblem(field, "needs a time zone, e.g. 2027-03-01T00:00:00Z")
        raise InvalidInput(f"invalid request: {field}: {problem.problem}", [problem])
    return value


@router.get("/v1/campaigns/{ref}/funnel")
def campaign_funnel(
    ref: str,
    *,
    instance: InstanceDep,
    key: SecretKeyDep,
    steps: Annotated[
        str,
        Query(
            max_length=2000,
            description="event types in order, comma-separated; type~text keeps only URLs"
            " containing text, e.g. page_view~/pricing,signup,checkout,conversion",
        ),
    ],
    window: Annotated[
        str, Query(max_length=16, description="conversion window from step 1: 30m, 12h, 7d, 2w")
    ] = "7d",
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> dict[str, Any]:
    """Ordered funnel over the campaign's people: reached, dropped, rate per step, bottleneck."""
    parsed, span = parse_steps(steps), parse_span(window, "window")
    people, found = service.campaign_funnel(
        instance.store,
        _events(instance),
        key.workspace_id,
        ref,
        steps=parsed,
        window=span,
        since=_aware(since, "since"),
        until=_aware(until, "until"),
    )
    return {**people_json(people), **funnel_json(found)}


@router.get("/v1/campaigns/{ref}/cohorts")
def campaign_cohorts(
    ref: str,
    *,
    instance: InstanceDep,
    key: SecretKeyDep,
    weeks: Annotated[int, Query(ge=0, le=104, description="weeks after the first one")] = 8,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> dict[str, Any]:
    """The campaign's people by week of first touch, and the share active each later week."""
    people, found = service.campaign_retention(
        instance.store,
        _events(instance),
        key.workspace_id,
        ref,
        weeks=weeks,
        since=_aware(since, "since"),
        until=_aware(until, "until"),
    )
    return {**people_json(people), **cohorts_json(found)}


@router.get("/v1/campaigns/{ref}/paths")
def campaign_paths(
    ref: str,
    *,
    instance: InstanceDep,
    key: SecretKeyDep,
    label: LabelQuery = "channel",
    max_touches: Annotated[int, Query(ge=1, le=20, description="last touches kept per path")] = 4,
    top: Annotated[int, Query(ge=1, le=1000, description="most frequent paths returned")] = 10,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> dict[str, Any]:
    """Most frequent paths to a first conversion, and where people who never converted left."""
    people, found, left = service.campaign_paths(
        instance.store,
        _events(instance),
        key.workspace_id,
        ref,
        label=label,
        max_touches=max_touches,
        top=top,
        since=_aware(since, "since"),
        until=_aware(until, "until"),
    )
    return {**people_json(people), **paths_json(found, left)}


@router.get("/v1/campaigns/{ref}/attribution")
def campaign_attribution(
    ref: str,
    *,
    instance: InstanceDep,
    key: SecretKeyDep,
    model: Annotated[
        ModelChoice, Query(description=f"all, or one of: {', '.join(MODELS)}")
    ] = "all",
    label: LabelQuery = "channel",
    lookback: Annotated[
        str, Query(max_length=16, description="touches counted before a conversion: e.g. 30d")
    ] = "30d",
    half_life: Annotated[
        str, Query(max_length=16, description="time decay: a touch's weight halves each 7d")
    ] = "7d",
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> dict[str, Any]:
    """Credit for the conversions of the campaign's people by label, under one or all models."""
    spans = parse_span(lookback, "lookback"), parse_span(half_life, "half_life")
    people, found = service.campaign_attribution(
        instance.store,
        _events(instance),
        key.workspace_id,
        ref,
        label=label,
        lookback=spans[0],
        half_life=spans[1],
        since=_aware(since, "since"),
        until=_aware(until, "until"),
    )
    models = list(MODELS) if model == "all" else [model]
    return {**people_json(people), **attribution_json(found, models)}


@router.get("/v1/clv")
def customer_lifetime_value(
    *,
    instance: InstanceDep,
    key: SecretKeyDep,
    period: Annotated[
        str, Query(max_length=16, description="the models' time unit: e.g. 7d (a week)")
    ] = "7d",
    horizon: Annotated[int, Query(ge=1, le=520, description="periods valued ahead")] = 52,
    discount_rate: Annotated[
        float, Query(ge=0.0, le=1.0, description="discount per period, e.g. 0.01")
    ] = 0.0,
) -> dict[str, Any]:
    """The workspace's customer lifetime value: BG/NBD and Gamma-Gamma fits, mean value ± CI."""
    result = service.customer_value(
        _events(instance),
        key.workspace_id,
        now=instance.clock.now(),
        period=parse_span(period, "period"),
        horizon_periods=horizon,
        discount_rate=discount_rate,
    )
    return clv_json(result)
