"""Routes for a campaign's metrics: any metric by any dimension, with targets and pacing."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from clarion.analytics import service
from clarion.analytics.render import campaign_metrics_json
from clarion.api.deps import InstanceDep, SecretKeyDep

router = APIRouter(prefix="/v1/campaigns", tags=["metrics"])


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@router.get("/{ref}/metrics")
def campaign_metrics(
    ref: str,
    *,
    instance: InstanceDep,
    key: SecretKeyDep,
    by: Annotated[
        str, Query(max_length=200, description="dimensions, comma-separated, e.g. channel,variant")
    ] = "",
    metrics: Annotated[
        str, Query(max_length=2000, description="metric names, comma-separated; default: a set")
    ] = "",
    since: Annotated[date | None, Query(description="first day counted (UTC)")] = None,
    until: Annotated[date | None, Query(description="last day counted (UTC)")] = None,
) -> dict[str, Any]:
    """The campaign's metrics by dimension, with each KPI target, its pacing and a verdict."""
    if instance.events is None:
        raise RuntimeError("this server does not own the event store")
    result = service.campaign_metrics(
        instance.store,
        instance.events,
        key.workspace_id,
        ref,
        now=instance.clock.now(),
        metrics=_names(metrics),
        by=_names(by),
        since=since,
        until=until,
    )
    return campaign_metrics_json(result)
