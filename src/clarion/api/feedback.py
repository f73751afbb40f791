"""Delivery feedback webhooks: ``POST /v1/feedback/{provider}``, signed by the provider."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from clarion.api.deps import InstanceDep
from clarion.api.tracking import collector_of
from clarion.core.errors import NotFound, StoreBusy
from clarion.delivery.feedback.apply import apply_feedback
from clarion.delivery.feedback.webhooks import PROVIDERS

router = APIRouter(tags=["feedback"])


@router.post(
    "/v1/feedback/{provider}",
    responses={200: {"description": "what the events did: counts by outcome"}},
)
async def provider_webhook(provider: str, request: Request, instance: InstanceDep) -> Any:
    """Bounces and complaints from an email provider (``mailgun``, ``sendgrid``, ``ses``).

    No API key: the provider's signature authenticates the call (401 when it does not
    verify or is older than ``feedback.webhook_max_age_seconds``). A replayed event is
    counted as a duplicate and changes nothing.
    """
    verify = PROVIDERS.get(provider)
    if verify is None:
        raise NotFound("feedback provider", provider[:40])
    body = await request.body()
    # In a thread: SES verification may fetch Amazon's signing certificate (once, then cached).
    items = await run_in_threadpool(
        verify,
        body,
        {k.lower(): v for k, v in request.headers.items()},
        settings=instance.settings.feedback,
        now=instance.clock.now(),
    )
    events = instance.events
    if events is None:
        raise StoreBusy("this server does not own the event store")
    applied = await run_in_threadpool(
        lambda: apply_feedback(
            instance.store,
            events,
            items,
            settings=instance.settings.feedback,
            clock=instance.clock,
            ids=instance.ids,
        )
    )
    await collector_of(request.app).submit(applied.rows)
    return applied.summary.as_dict()
