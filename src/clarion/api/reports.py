"""Route for a campaign's post-campaign report as HTML, PDF or JSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from clarion.api.deps import InstanceDep, SecretKeyDep
from clarion.reports.build import build_report
from clarion.reports.service import MEDIA_TYPES, rendered

router = APIRouter(prefix="/v1/campaigns", tags=["reports"])


@router.get("/{ref}/report", response_class=Response)
def campaign_report(
    ref: str,
    *,
    instance: InstanceDep,
    key: SecretKeyDep,
    format: Annotated[
        Literal["html", "pdf", "json"], Query(description="html, pdf or json")
    ] = "json",
) -> Response:
    """The campaign's report built from its stored facts now; reading it records nothing."""
    if instance.events is None:
        raise RuntimeError("this server does not own the event store")
    report = build_report(
        instance.store, instance.events, key.workspace_id, ref, now=instance.clock.now()
    )
    headers = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return Response(rendered(report, format), media_type=MEDIA_TYPES[format], headers=headers)
